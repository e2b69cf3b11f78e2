//! Property test of the `repairs.csv` reader: a damaged file gives
//! rows that pass the one row check, or an error naming the file — never a panic, and
//! never rows the check would refuse.

#[path = "../../../fixtures/mutations.rs"]
mod mutations;

use mutations::{apply, config, mutations, names_file};
use proptest::prelude::*;
use repair_metrics::{read_repairs, repair_problems};

const REPAIRS: &str = "dataset,model,run,seed,target_class,epoch,converged_epoch,base_acc_total,base_acc_cls,repaired_acc_total,repaired_acc_cls,rr,br,n_sites,fitness,evaluations,repair_ms,selection_repaired_acc_cls\n\
gtsrb,cnn-s,1,1024,27,1,2,0.8,0.4,0.79,0.5,0.5,0.01,6,150.0,2600,20.0,0.4\n\
gtsrb,cnn-s,1,1024,27,2,2,0.85,0.45,0.84,0.6,0.4,0.02,6,140.5,2600,21.5,\n";

proptest! {
    #![proptest_config(config())]

    #[test]
    fn a_damaged_repairs_csv(m in mutations()) {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("repairs.csv");
        std::fs::write(&path, apply(REPAIRS.as_bytes(), &m)).unwrap();
        match read_repairs(&path) {
            Ok(rows) => prop_assert!(repair_problems(&rows).is_empty()),
            Err(e) => names_file(&e.to_string(), &path)?,
        }
    }
}
