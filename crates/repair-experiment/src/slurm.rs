//! The Slurm submit script of an experiment (`cargo xtask slurm` prints it): three
//! dependent jobs — an array of training shards, an array of repair
//! shards, and the unsharded run that collects `repairs.csv` and writes the report.
//! Each array task's command names its shard, `--shard $SLURM_ARRAY_TASK_ID/N`, so a task
//! resubmitted alone (`--array=2`) still runs shard 2 of N. Nothing from the inputs is
//! ever executed (see [`slurm_script`]).

use std::fmt::Write;
use std::path::PathBuf;

use repair_pipeline::{PipelineError, Result};

/// What the script submits.
#[derive(Debug, Clone)]
pub struct SlurmPlan {
    /// Experiment name (`experiments/<NAME>.toml`).
    pub name: String,
    /// Profile.
    pub profile: String,
    /// `--config FILE`, when not the named experiment's.
    pub config: Option<PathBuf>,
    /// `--set KEY=VALUE` settings.
    pub set: Vec<String>,
    /// The dataset (the folder under `$EARLY_REPAIR_DATA`).
    pub dataset: String,
    /// Array tasks per stage.
    pub shards: usize,
    /// Output folder.
    pub out: PathBuf,
    /// cpu or cuda.
    pub device: String,
    /// sbatch `--time` of a training task.
    pub train_time: String,
    /// sbatch `--time` of a repair task.
    pub repair_time: String,
    /// sbatch `--time` of the report task.
    pub report_time: String,
    /// The words of the `xtask slurm` command that made the script (its header repeats
    /// them, so that following it makes the same script).
    pub made_by: Vec<String>,
    /// CPUs per task (sbatch `--cpus-per-task`); each task's rayon pool takes
    /// `SLURM_CPUS_PER_TASK` threads (this when unset), not the whole node.
    pub cpus: usize,
    /// Extra sbatch options for every job.
    pub sbatch: Vec<String>,
    /// An `xtask` binary the jobs run (absolute); `None`: the script builds it (release)
    /// and takes the path cargo reports, whatever `CARGO_TARGET_DIR` is.
    pub xtask: Option<PathBuf>,
}

/// Writes a submit script to `path` atomically and executable: a failure leaves no
/// empty or partial script behind.
pub fn write_script(path: &std::path::Path, script: &str) -> Result<()> {
    use std::os::unix::fs::PermissionsExt;
    repair_core::write_atomic_with(path, |tmp| {
        std::fs::write(tmp, script)?;
        std::fs::set_permissions(tmp, std::fs::Permissions::from_mode(0o755))
    })
    .map_err(|e| repair_pipeline::file_error(path, e))
}

/// The submit script. Run it from the workspace root on the login node; the jobs start
/// in that folder (Slurm's default working directory is the submit directory).
///
/// No input is ever executed: every word (output folder, `--set` values, config path,
/// sbatch options) is quoted once for the submit shell, and each job is a small batch
/// script fed to `sbatch` on stdin whose one command is written by bash's `printf %q`,
/// so the job's shell reads the same words again. Names that become job names and
/// comments (experiment, profile, dataset) must be plain names.
pub fn slurm_script(plan: &SlurmPlan) -> Result<String> {
    for (what, name) in [
        ("experiment name", &plan.name),
        ("profile", &plan.profile),
        ("dataset", &plan.dataset),
    ] {
        if !repair_core::is_plain_name(name) {
            return Err(PipelineError::Invalid(format!(
                "{what} `{name}`: a Slurm job name must be letters, digits, `-`, `_` or `.`"
            )));
        }
    }
    let cuda = plan.device == "cuda";
    let mut experiment = format!(
        "experiment {} --profile {} --out {} --device {}",
        quote(&plan.name),
        quote(&plan.profile),
        quote(&plan.out.display().to_string()),
        quote(&plan.device)
    );
    if let Some(config) = &plan.config {
        write!(
            experiment,
            " --config {}",
            quote(&config.display().to_string())
        )
        .unwrap();
    }
    for setting in &plan.set {
        write!(experiment, " --set {}", quote(setting)).unwrap();
    }
    // Array tasks log as job_task; the report, not an array, by its job id (`%a` of a
    // non-array job is 4294967294).
    let array_log = quote(&format!(
        "--output={}/slurm-%x-%A_%a.log",
        plan.out.display()
    ));
    let report_log = quote(&format!("--output={}/slurm-%x-%j.log", plan.out.display()));
    if plan.cpus == 0 {
        return Err(PipelineError::Invalid("--cpus must be at least 1".into()));
    }
    let cpus = plan.cpus;
    let mut common = format!("--cpus-per-task={cpus}");
    if cuda {
        common.push_str(" --gres=gpu:1");
    }
    for option in &plan.sbatch {
        write!(common, " {}", quote(option)).unwrap();
    }
    let n = plan.shards;
    let features = if cuda { " --features cuda" } else { "" };
    let build = match &plan.xtask {
        Some(path) => format!("XTASK={}", quote(&path.display().to_string())),
        // The executable cargo built, from its JSON messages: right with any
        // CARGO_TARGET_DIR and with spaces in the path.
        None => format!(
            "XTASK=$(cargo build --release -p xtask{features} --message-format=json-render-diagnostics \\\n  | sed -n 's/.*\"executable\":\"\\([^\"]*\\)\".*/\\1/p' | tail -n 1)\n\
             [ -x \"$XTASK\" ] || {{ echo \"cargo did not report the xtask binary\" >&2; exit 1; }}"
        ),
    };
    Ok(format!(
        r#"#!/usr/bin/env bash
# Submits experiment {name} (profile {profile}) to Slurm:
#   1. {n} training tasks (shard i/{n} trains its seeds and caches their activations),
#   2. {n} repair tasks once all have finished (shard i/{n} repairs its units),
#   3. one task that collects repairs.csv and writes Table 1, quality.csv and the figures.
# Made by: cargo xtask slurm {made_by}
# Run it from the workspace root on the login node, with EARLY_REPAIR_DATA set to the
# folder holding {dataset}/.
# A task that fails can be resubmitted as is: finished units are skipped.
set -euo pipefail
: "${{EARLY_REPAIR_DATA:?set EARLY_REPAIR_DATA to the folder that holds {dataset}/}}"
[ -d "$EARLY_REPAIR_DATA/{dataset}" ] || {{ echo "no {dataset}/ in EARLY_REPAIR_DATA=$EARLY_REPAIR_DATA" >&2; exit 1; }}
# The jobs get the data folder as an absolute --data (a site's --export=NONE drops the
# variable, and a relative path would depend on where a job starts).
DATA="$(cd -- "$EARLY_REPAIR_DATA/{dataset}" && pwd)"
{build}
mkdir -p -- {out}
# The batch script of one job: xtask with these words, each quoted for the job's shell,
# on as many threads as Slurm gave the task. An array task (first argument: the number
# of shards) takes its shard from its own task id, so resubmitting one task
# (`--array=2`) redoes shard 2 only.
job() {{
  local shards=$1
  shift
  printf '#!/usr/bin/env bash\nexport RAYON_NUM_THREADS="${{SLURM_CPUS_PER_TASK:-{cpus}}}"\nexec'
  printf ' %q' "$XTASK" {experiment} "$@" --data "$DATA"
  if [ -n "$shards" ]; then
    printf ' --shard "${{SLURM_ARRAY_TASK_ID:?not an array task}}/%s"' "$shards"
  fi
  printf '\n'
}}

# A failed or cancelled stage cancels the stages waiting for it (--kill-on-invalid-dep),
# instead of leaving them pending forever.
train=$(job {n} --stage train | sbatch --parsable --job-name={name}-train --array=1-{n} --time={train_time} {array_log} {common})
repair=$(job {n} --stage repair | sbatch --parsable --job-name={name}-repair --array=1-{n} --time={repair_time} --dependency="afterok:${{train%%;*}}" --kill-on-invalid-dep=yes {array_log} {common})
report=$(job '' | sbatch --parsable --job-name={name}-report --time={report_time} --dependency="afterok:${{repair%%;*}}" --kill-on-invalid-dep=yes {report_log} {common})
printf 'submitted: train %s, repair %s, report %s; results in %s\n' "${{train%%;*}}" "${{repair%%;*}}" "${{report%%;*}}" {out}
printf 'to cancel them all: scancel %s %s %s\n' "${{train%%;*}}" "${{repair%%;*}}" "${{report%%;*}}"
"#,
        name = plan.name,
        profile = plan.profile,
        dataset = plan.dataset,
        out = quote(&plan.out.display().to_string()),
        train_time = quote(&plan.train_time),
        repair_time = quote(&plan.repair_time),
        report_time = quote(&plan.report_time),
        made_by = comment_words(&plan.made_by),
        build = build,
    ))
}

/// Words for a comment line: quoted as for the shell, with line breaks written as `\n`
/// so that no word can end the comment.
fn comment_words(words: &[String]) -> String {
    words
        .iter()
        .map(|w| quote(w).replace('\n', "\\n").replace('\r', "\\r"))
        .collect::<Vec<_>>()
        .join(" ")
}

/// A shell word: as is when it is plainly safe, else single-quoted.
fn quote(word: &str) -> String {
    let plain = !word.is_empty()
        && word
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "-_./:=,+@%".contains(c));
    if plain {
        word.to_string()
    } else {
        format!("'{}'", word.replace('\'', r"'\''"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::os::unix::fs::PermissionsExt;

    fn plan() -> SlurmPlan {
        SlurmPlan {
            name: "gtsrb".into(),
            profile: "paper".into(),
            config: None,
            set: vec!["train.seeds=[1, 2]".into()],
            dataset: "gtsrb".into(),
            shards: 5,
            out: PathBuf::from("runs/gtsrb paper"),
            device: "cuda".into(),
            train_time: "12:00:00".into(),
            repair_time: "2:00:00".into(),
            report_time: "0:30:00".into(),
            made_by: vec!["gtsrb".into(), "--shards".into(), "5".into()],
            cpus: 2,
            sbatch: vec!["--partition=gpu".into()],
            xtask: None,
        }
    }

    /// Runs the script with fake `sbatch` and `cargo` that log their arguments, and
    /// returns the log's lines.
    fn submit(script: &str) -> (std::process::Output, Vec<String>) {
        let (output, calls, _) = submit_with(script, &[]);
        (output, calls)
    }

    /// [`submit`] with more environment variables for the submit shell; also returns
    /// each xtask's `RAYON_NUM_THREADS`.
    fn submit_with(
        script: &str,
        env: &[(&str, &str)],
    ) -> (std::process::Output, Vec<String>, Vec<String>) {
        let dir = tempfile::tempdir().unwrap();
        let log = dir.path().join("calls.log");
        let bin = dir.path().join("bin");
        std::fs::create_dir(&bin).unwrap();
        // sbatch logs its options, then runs the batch script it reads (as a node
        // would), which runs the fake xtask below; each call is one line of the log.
        for (tool, reply) in [
            (
                "sbatch",
                "id=$((1000 + $(grep -c '^sbatch' \"$LOG\")))\ncase \"$*\" in *--array=*) export SLURM_ARRAY_TASK_ID=${FAKE_TASK:-1};; esac\nbash -s >/dev/null\necho \"$id;cluster\"",
            ),
            // cargo's JSON message of the built binary (the fake xtask below).
            (
                "cargo",
                r#"printf '{"reason":"compiler-artifact","executable":"%s/target/release/xtask"}\n' "$PWD""#,
            ),
        ] {
            let path = bin.join(tool);
            std::fs::write(
                &path,
                format!("#!/usr/bin/env bash\nprintf '{tool}' >> \"$LOG\"; printf ' [%s]' \"$@\" >> \"$LOG\"; echo >> \"$LOG\"\n{reply}\n"),
            )
            .unwrap();
            std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o755)).unwrap();
        }
        let xtask = dir.path().join("target/release/xtask");
        std::fs::create_dir_all(xtask.parent().unwrap()).unwrap();
        std::fs::write(
            &xtask,
            "#!/usr/bin/env bash\nprintf 'xtask' >> \"$LOG\"; printf ' [%s]' \"$@\" >> \"$LOG\"; echo >> \"$LOG\"\necho \"$RAYON_NUM_THREADS\" >> \"$LOG.rayon\"\n",
        )
        .unwrap();
        std::fs::set_permissions(&xtask, std::fs::Permissions::from_mode(0o755)).unwrap();
        std::fs::write(dir.path().join("submit.sh"), script).unwrap();
        let data = dir.path().join("data");
        std::fs::create_dir_all(data.join("gtsrb")).unwrap();
        let output = std::process::Command::new("bash")
            .arg("submit.sh")
            .current_dir(dir.path())
            .env(
                "PATH",
                format!("{}:{}", bin.display(), std::env::var("PATH").unwrap()),
            )
            .env("LOG", &log)
            .env("EARLY_REPAIR_DATA", &data)
            .envs(env.iter().copied())
            .output()
            .unwrap();
        let lines = |path: &std::path::Path| -> Vec<String> {
            std::fs::read_to_string(path)
                .unwrap_or_default()
                .lines()
                .map(String::from)
                .collect()
        };
        // The data folder (made above) reads as DATA in the calls.
        let calls: Vec<String> = lines(&log)
            .into_iter()
            .map(|l| l.replace(&data.display().to_string(), "DATA"))
            .collect();
        let rayon = lines(&dir.path().join("calls.log.rayon"));
        let made: Vec<String> = std::fs::read_dir(dir.path())
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .filter(|n| n.starts_with("pwned"))
            .collect();
        assert!(made.is_empty(), "the script executed its inputs: {made:?}");
        (output, calls, rayon)
    }

    #[test]
    fn a_given_xtask_binary_is_run_as_is_and_nothing_is_built() {
        // The fake xtask of `submit` (relative here: the fake's folder is made there).
        let plan = SlurmPlan {
            xtask: Some(PathBuf::from("target/release/xtask")),
            ..plan()
        };
        let script = slurm_script(&plan).unwrap();
        assert!(!script.contains("cargo build"), "{script}");
        let (output, calls) = submit(&script);
        assert!(
            output.status.success(),
            "{}",
            String::from_utf8_lossy(&output.stderr)
        );
        assert!(calls[0].starts_with("sbatch"), "{calls:#?}");
        assert!(
            calls[1].starts_with("xtask [experiment] [gtsrb]"),
            "{calls:#?}"
        );
    }

    #[test]
    fn a_written_script_is_whole_and_executable() {
        use std::os::unix::fs::PermissionsExt;
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("submit.sh");
        let script = slurm_script(&plan()).unwrap();
        write_script(&path, &script).unwrap();
        assert_eq!(std::fs::read_to_string(&path).unwrap(), script);
        let mode = std::fs::metadata(&path).unwrap().permissions().mode();
        assert_eq!(mode & 0o111, 0o111, "{mode:o}");
    }

    #[test]
    fn each_task_asks_for_its_cpus_and_runs_rayon_on_what_slurm_gave_it() {
        let script = slurm_script(&plan()).unwrap();
        // Outside Slurm (the fake sbatch): --cpus; on a node: SLURM_CPUS_PER_TASK.
        let (_, _, rayon) = submit_with(&script, &[]);
        assert_eq!(rayon, ["2", "2", "2"]);
        let (_, _, rayon) = submit_with(&script, &[("SLURM_CPUS_PER_TASK", "3")]);
        assert_eq!(rayon, ["3", "3", "3"]);
        // Task 4 of an array (as when it alone is resubmitted) runs shard 4, whatever
        // the array's range; the report job has no shard.
        let (_, calls, _) = submit_with(&script, &[("FAKE_TASK", "4")]);
        assert!(
            calls[2].ends_with("[--stage] [train] [--data] [DATA/gtsrb] [--shard] [4/5]"),
            "{}",
            calls[2]
        );
        assert!(!calls[6].contains("--shard"), "{}", calls[6]);
        let e = slurm_script(&SlurmPlan { cpus: 0, ..plan() }).unwrap_err();
        assert!(e.to_string().contains("--cpus"), "{e}");
    }

    #[test]
    fn the_script_submits_train_then_repair_then_report_in_a_chain() {
        let script = slurm_script(&plan()).unwrap();
        // The header repeats the command that made it.
        assert!(script.contains("\n# Made by: cargo xtask slurm gtsrb --shards 5\n"));
        let (output, calls) = submit(&script);
        assert!(
            output.status.success(),
            "{}",
            String::from_utf8_lossy(&output.stderr)
        );
        // cargo, then per job: sbatch's options and the xtask its script ran.
        assert_eq!(calls.len(), 7, "{calls:#?}");
        assert!(calls[0].starts_with("cargo [build] [--release] [-p] [xtask] [--features] [cuda]"));
        let (train, repair, report) = (&calls[1], &calls[3], &calls[5]);
        assert!(train.contains("[--array=1-5]") && train.contains("[--time=12:00:00]"));
        assert!(train.contains("[--gres=gpu:1]") && train.contains("[--partition=gpu]"));
        for job in [train, &calls[3], &calls[5]] {
            assert!(job.contains("[--cpus-per-task=2]"), "{job}");
        }
        let words = "xtask [experiment] [gtsrb] [--profile] [paper] [--out] [runs/gtsrb paper] \
                     [--device] [cuda] [--set] [train.seeds=[1, 2]]";
        assert_eq!(
            calls[2],
            format!("{words} [--stage] [train] [--data] [DATA/gtsrb] [--shard] [1/5]")
        );
        // The fake sbatch answers 1001, 1002, …: each job waits for the one before.
        assert!(repair.contains("[--array=1-5]") && repair.contains("[--dependency=afterok:1001]"));
        assert_eq!(
            calls[4],
            format!("{words} [--stage] [repair] [--data] [DATA/gtsrb] [--shard] [1/5]")
        );
        assert!(report.contains("[--dependency=afterok:1002]") && !report.contains("--array"));
        assert!(repair.contains("[--time=2:00:00]") && report.contains("[--time=0:30:00]"));
        for dependent in [repair, report] {
            assert!(
                dependent.contains("[--kill-on-invalid-dep=yes]"),
                "{dependent}"
            );
        }
        assert!(!train.contains("kill-on-invalid-dep"));
        assert!(
            train.contains("[--output=runs/gtsrb paper/slurm-%x-%A_%a.log]"),
            "{train}"
        );
        assert!(
            report.contains("[--output=runs/gtsrb paper/slurm-%x-%j.log]"),
            "{report}"
        );
        assert_eq!(calls[6], format!("{words} [--data] [DATA/gtsrb]"));
        let stdout = String::from_utf8_lossy(&output.stdout);
        assert!(
            stdout.contains("train 1001, repair 1002, report 1003")
                && stdout.contains("to cancel them all: scancel 1001 1002 1003"),
            "{stdout}"
        );
    }

    /// Shell syntax in every input arrives as the same words and runs
    /// nothing (`submit` fails if a `pwned*` file appears).
    #[test]
    fn shell_syntax_in_every_input_is_passed_on_and_never_executed() {
        let hostile = SlurmPlan {
            config: Some(PathBuf::from("cfg;touch pwned1.toml")),
            set: vec![
                "train.model=\"cnn-s\"".into(),
                "x=$(touch pwned2)`touch pwned3`".into(),
                "y='; touch pwned4; '".into(),
            ],
            out: PathBuf::from("runs/$(touch pwned5) \"q\" 'x'"),
            train_time: "1:00:00$(touch pwned6)".into(),
            made_by: vec!["x\ntouch pwned9".into(), "$(touch pwned10)".into()],
            sbatch: vec!["--comment=$(touch pwned7);touch pwned8".into()],
            ..plan()
        };
        let (output, calls) = submit(&slurm_script(&hostile).unwrap());
        assert!(
            output.status.success(),
            "{}",
            String::from_utf8_lossy(&output.stderr)
        );
        assert!(
            calls[1].contains("[--comment=$(touch pwned7);touch pwned8]"),
            "{}",
            calls[1]
        );
        assert!(
            calls[1].contains("[--time=1:00:00$(touch pwned6)]"),
            "{}",
            calls[1]
        );
        let job = &calls[2];
        for word in [
            "[runs/$(touch pwned5) \"q\" 'x']",
            "[--config] [cfg;touch pwned1.toml]",
            "[train.model=\"cnn-s\"]",
            "[x=$(touch pwned2)`touch pwned3`]",
            "[y='; touch pwned4; ']",
        ] {
            assert!(job.contains(word), "{word} not in {job}");
        }
        for bad in ["a b", "x;y", "$(id)", "..", "a\nb"] {
            let e = slurm_script(&SlurmPlan {
                name: bad.into(),
                ..plan()
            })
            .unwrap_err();
            assert!(e.to_string().contains("Slurm job name"), "{e}");
        }
    }

    #[test]
    fn the_script_refuses_to_run_without_the_data_folder() {
        let script = slurm_script(&SlurmPlan {
            device: "cpu".into(),
            ..plan()
        })
        .unwrap();
        assert!(!script.contains("--gres") && !script.contains("--features"));
        let (output, _) = submit(&script.replace(
            "set -euo pipefail",
            "set -euo pipefail\nunset EARLY_REPAIR_DATA",
        ));
        assert!(!output.status.success());
        assert!(String::from_utf8_lossy(&output.stderr).contains("set EARLY_REPAIR_DATA"));
    }

    #[test]
    fn quoting_keeps_plain_words_and_wraps_the_rest() {
        assert_eq!(quote("runs/gtsrb-paper"), "runs/gtsrb-paper");
        assert_eq!(quote("a b"), "'a b'");
        assert_eq!(quote("it's"), r"'it'\''s'");
        assert_eq!(quote(""), "''");
    }
}
