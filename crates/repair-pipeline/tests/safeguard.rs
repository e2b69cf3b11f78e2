//! The safeguard on the problem-file path (`xtask repair --problem`): on a seeded problem
//! where the unguarded search ends below the original, `repaired.safetensors` is the
//! file's own layer, byte for byte, and `repair.json` says the original was kept;
//! `keep_worse` writes the search's best, as the study did.

use repair_core::{Layout, MethodName, NoProgress, RepairRequest};
use repair_fitness::{RepairProblem, SyntheticSpec};
use repair_method::{layer_bytes, problem_bytes};
use repair_pipeline::{read_json, repair_problem_file, ProblemReport, REPAIRED_LAYER};

/// The seed of `crates/repair-method/tests/safeguard.rs`: with 4 particles × 2
/// iterations the search on this problem ends below the original.
const WORSE_SEED: u64 = 131;

#[test]
fn a_problem_whose_search_ends_below_the_original_gets_the_original_back() {
    let p = RepairProblem::synthetic(SyntheticSpec {
        width: 64,
        classes: 10,
        negatives: 40,
        positives: 160,
        sites: 6,
        columns: 3,
        seed: WORSE_SEED,
    });
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("problem.safetensors");
    std::fs::write(&file, problem_bytes(&p).unwrap()).unwrap();
    let original = layer_bytes(&p.layer, Layout::Keras).unwrap();
    for method in [MethodName::Arachne, MethodName::De] {
        let request = |keep_worse| RepairRequest {
            method,
            particles: 4,
            iterations: 2,
            keep_worse,
            ..RepairRequest::study(0, WORSE_SEED)
        };
        let worse = dir.path().join(format!("{method}-worse"));
        let unguarded =
            repair_problem_file(&file, &request(true), false, &worse, &NoProgress).unwrap();
        assert!(
            unguarded.score.fitness_after.fitness < unguarded.score.fitness_before.fitness,
            "{method}: the seed no longer ends below the original"
        );
        assert_ne!(std::fs::read(worse.join(REPAIRED_LAYER)).unwrap(), original);

        let out = dir.path().join(method.as_str());
        let report = repair_problem_file(&file, &request(false), false, &out, &NoProgress).unwrap();
        assert!(report.score.kept_original, "{method}");
        assert_eq!(report.score.fitness_before, unguarded.score.fitness_before);
        assert_eq!(report.score.fitness_after, unguarded.score.fitness_after);
        assert_eq!(
            std::fs::read(out.join(REPAIRED_LAYER)).unwrap(),
            original,
            "{method}: repaired.safetensors is the file's own layer"
        );
        let written: ProblemReport = read_json(&out.join("repair.json")).unwrap();
        assert!(written.score.kept_original);
        // weights.csv lists the searched weights, each at its original value.
        let weights = std::fs::read_to_string(out.join("weights.csv")).unwrap();
        for line in weights.lines().skip(1) {
            let cells: Vec<&str> = line.split(',').collect();
            assert_eq!(cells[3], cells[4], "{method}: {line}");
        }
    }
}
