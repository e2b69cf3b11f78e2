//! `exp` and `ln` as branch-free polynomials that the compiler vectorises across rows
//! (libm's are opaque calls, one lane at a time, and were most of a fitness evaluation).
//! Both are accurate to a few ulp on the ranges the fitness uses; they use only
//! +, −, ×, ÷, comparisons and bit moves, so every instruction set gives the same bits.

/// 1.5 · 2⁵²: adding it rounds a small `f64` to an integer held in the low mantissa bits.
const SHIFT: f64 = 6_755_399_441_055_744.0;
const LOG2_E: f64 = std::f64::consts::LOG2_E;
/// ln 2 split so that n · LN2_HI is exact for |n| < 2¹¹.
const LN2_HI: f64 = 0.693_147_180_369_123_8;
const LN2_LO: f64 = 1.908_214_929_270_587_7e-10;

/// eˣ for x ≤ 709; inputs below −708 give e⁻⁷⁰⁸ ≈ 3·10⁻³⁰⁸ (the fitness only adds such
/// terms to sums ≥ 1). Cody–Waite reduction x = n·ln 2 + r, |r| ≤ ln 2 / 2, then the
/// Taylor polynomial of degree 12 (truncation < 2·10⁻¹⁶).
#[inline(always)]
pub(crate) fn exp(x: f64) -> f64 {
    let x = if x > -708.0 { x } else { -708.0 };
    let k = x * LOG2_E + SHIFT;
    let n = k - SHIFT;
    let r = x - n * LN2_HI - n * LN2_LO;
    let mut p = 1.0 / 479_001_600.0; // 1/12!
    for c in [
        1.0 / 39_916_800.0,
        1.0 / 3_628_800.0,
        1.0 / 362_880.0,
        1.0 / 40_320.0,
        1.0 / 5_040.0,
        1.0 / 720.0,
        1.0 / 120.0,
        1.0 / 24.0,
        1.0 / 6.0,
        0.5,
        1.0,
        1.0,
    ] {
        p = p * r + c;
    }
    // 2ⁿ: n sits in the low bits of k; shifting into the exponent field drops the rest.
    let scale = f64::from_bits(k.to_bits().wrapping_add(1023) << 52);
    p * scale
}

/// ln y for finite y ≥ 2⁻¹⁰²² (the fitness calls it on softmax sums ≥ 1): y = m · 2ᵉ
/// with m ∈ [√½, √2), ln m = 2 atanh(s), s = (m − 1)/(m + 1), |s| < 0.172, by its
/// series to s²³ (truncation < 10⁻¹⁷).
#[inline(always)]
pub(crate) fn ln(y: f64) -> f64 {
    const MANTISSA: u64 = (1 << 52) - 1;
    const ONE: u64 = 0x3ff0_0000_0000_0000;
    const TWO52: u64 = 0x4330_0000_0000_0000;
    let bits = y.to_bits();
    // The biased exponent as an f64 without an int → float conversion instruction.
    let biased = f64::from_bits(TWO52 | (bits >> 52)) - 4_503_599_627_370_496.0;
    let m = f64::from_bits((bits & MANTISSA) | ONE);
    let big = m > std::f64::consts::SQRT_2;
    let m = if big { m * 0.5 } else { m };
    let e = biased - 1023.0 + if big { 1.0 } else { 0.0 };
    let s = (m - 1.0) / (m + 1.0);
    let s2 = s * s;
    let mut q = 1.0 / 23.0;
    for c in [
        1.0 / 21.0,
        1.0 / 19.0,
        1.0 / 17.0,
        1.0 / 15.0,
        1.0 / 13.0,
        1.0 / 11.0,
        1.0 / 9.0,
        1.0 / 7.0,
        1.0 / 5.0,
        1.0 / 3.0,
        1.0,
    ] {
        q = q * s2 + c;
    }
    e * LN2_HI + (e * LN2_LO + 2.0 * s * q)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rel(a: f64, b: f64) -> f64 {
        (a - b).abs() / b.abs().max(f64::MIN_POSITIVE)
    }

    #[test]
    fn exp_matches_libm_to_a_few_ulp() {
        let mut worst: f64 = 0.0;
        for k in 0..200_000 {
            let x = -700.0 + 1400.0 * (k as f64 / 200_000.0);
            let x = x.min(709.0);
            worst = worst.max(rel(exp(x), x.exp()));
        }
        for x in [
            0.0,
            -1e-300,
            1e-10,
            -0.5 * std::f64::consts::LN_2,
            1.0,
            -30.0,
        ] {
            worst = worst.max(rel(exp(x), x.exp()));
        }
        assert!(worst < 1e-15, "worst relative error {worst:e}");
        assert_eq!(exp(0.0), 1.0);
        assert!(exp(-1e6) < 1e-307);
    }

    #[test]
    fn ln_matches_libm_to_a_few_ulp() {
        let mut worst: f64 = 0.0;
        for k in 0..200_000 {
            let y = 1.0 + 100.0 * (k as f64 / 200_000.0);
            worst = worst.max((ln(y) - y.ln()).abs() / y.ln().abs().max(1e-300));
        }
        for y in [
            1e-300,
            1e-7,
            0.5,
            std::f64::consts::SQRT_2,
            1.0 + 1e-12,
            1e300,
        ] {
            worst = worst.max(rel(ln(y), y.ln()));
        }
        assert!(worst < 1e-15, "worst relative error {worst:e}");
        assert_eq!(ln(1.0), 0.0);
    }
}
