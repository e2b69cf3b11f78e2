//! Writes the seeded example conv net as an ONNX file, to try `xtask repair --onnx`:
//!
//! ```sh
//! cargo run -p repair-onnx --features onnx --example write_example -- model.onnx 1 28 2
//! cargo run --release -p xtask --features onnx -- repair --onnx model.onnx \
//!     --dataset pneumonia --class 1 --mean 0.5 --std 0.25 --out runs/onnx-repair
//! ```
//!
//! Arguments: PATH CHANNELS SIDE CLASSES (a Gemm head with transB, as PyTorch exports).

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let [path, channels, side, classes] = &args[..] else {
        eprintln!("usage: write_example PATH CHANNELS SIDE CLASSES");
        std::process::exit(2);
    };
    let number = |name: &str, value: &str| -> usize {
        value.parse().unwrap_or_else(|_| {
            eprintln!("{name} {value:?}: want a whole number");
            std::process::exit(2)
        })
    };
    let model = repair_onnx::example_conv_net(
        number("CHANNELS", channels),
        number("SIDE", side),
        number("CLASSES", classes),
        repair_onnx::ExampleHead::GemmTorch,
        true,
        1,
    );
    std::fs::write(path, repair_onnx::encode_model(&model)).unwrap_or_else(|e| {
        eprintln!("{path}: {e}");
        std::process::exit(1)
    });
}
