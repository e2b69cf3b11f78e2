//! `cargo xtask data check | import | fetch | split`.

use anyhow::{bail, Context};
use repair_data::{Dataset, Manifest, Split, SplitConfig, SplitPart};

use crate::flags::DataCommand;

/// Runs one data subcommand.
pub fn run(command: DataCommand) -> anyhow::Result<()> {
    match command {
        DataCommand::Check {
            dataset,
            data,
            no_hash,
        } => {
            let manifest = Manifest::builtin(&dataset)?;
            let dir = data.resolve(&dataset)?;
            let report = manifest.check(&dir, !no_hash);
            println!("{report}");
            if !report.is_ok() {
                bail!("{} does not match datasets/{dataset}.toml", dir.display());
            }
            Ok(())
        }
        DataCommand::Import {
            dataset,
            from,
            data,
        } => {
            let manifest = Manifest::builtin(&dataset)?;
            let corpus = match dataset.as_str() {
                "rsna" => {
                    eprintln!("decoding the DICOM files under {} …", from.display());
                    let bar = indicatif::ProgressBar::new(0).with_style(
                        indicatif::ProgressStyle::with_template(
                            "{bar:40} {pos}/{len} DICOM files, {per_sec}, ETA {eta}",
                        )?,
                    );
                    let corpus = repair_data::load_rsna_official_with(
                        &from,
                        manifest.shape().height,
                        |total| {
                            bar.set_length(total as u64);
                            bar.inc(1);
                        },
                    )?;
                    bar.finish_and_clear();
                    corpus
                }
                "gtsrb" => {
                    eprintln!(
                        "decoding and preprocessing the PPMs under {} …",
                        from.display()
                    );
                    let out = data.resolve(&dataset)?;
                    repair_data::import_gtsrb_official(
                        &manifest,
                        &from,
                        &out,
                        &repair_data::gtsrb_study_preprocess(),
                    )?
                }
                other => bail!("no importer for `{other}` (gtsrb or rsna)"),
            };
            let out = data.resolve(&dataset)?;
            if dataset != "gtsrb" {
                manifest.write_packed(&corpus, &out)?;
            }
            println!("{} → {}", corpus.describe(), out.display());
            let report = manifest.check(&out, false);
            println!("{report}");
            if !report.is_ok() {
                eprintln!(
                    "warning: the imported data differs from datasets/{dataset}.toml (see above)"
                );
            }
            Ok(())
        }
        DataCommand::Fetch { dataset, out } => {
            let manifest = Manifest::builtin(&dataset)?;
            let bar = indicatif::ProgressBar::new(manifest.archives.len() as u64).with_style(
                indicatif::ProgressStyle::with_template("{prefix} [{bar:30}] {pos}/{len} {msg}")?,
            );
            bar.set_prefix(format!("fetch {dataset}"));
            repair_data::fetch_official(&manifest, &out, &mut |name, done, _| {
                bar.set_position(done as u64);
                bar.set_message(name.to_string());
            })?;
            bar.finish_and_clear();
            println!(
                "{dataset}: official archives unpacked into {}; pack them with \
                 `cargo xtask data import {dataset} --from {}`",
                out.display(),
                out.display()
            );
            Ok(())
        }
        DataCommand::Split {
            dataset,
            data,
            seed,
            rule,
            out,
        } => {
            let manifest = Manifest::builtin(&dataset)?;
            let dir = data.resolve(&dataset)?;
            let corpus = manifest.load(&dir)?;
            let config = SplitConfig::study(&dataset, seed).with_rule(rule);
            let split = Split::make(&corpus, &config)?;
            split
                .save(&out)
                .with_context(|| format!("saving the split to {}", out.display()))?;
            println!(
                "{} split of {} (seed {seed}) → {}",
                config.rule,
                corpus.describe(),
                out.display()
            );
            for part in SplitPart::ALL {
                let view = split.view(&corpus, part);
                println!("  {:<6} {:>6} images", part.name(), view.len());
            }
            Ok(())
        }
    }
}
