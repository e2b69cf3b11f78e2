//! `cargo xtask data check | import | fetch | split`.

use anyhow::{bail, Context};
use repair_data::{Dataset, Manifest, Split, SplitConfig, SplitPart};

use crate::flags::DataCommand;
use crate::progress::Bars;

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
            let out = data.resolve(&dataset)?;
            let bars = Bars::default();
            let corpus = match dataset.as_str() {
                "rsna" => {
                    eprintln!("decoding the DICOM files under {} …", from.display());
                    let corpus = repair_data::load_rsna_official_with(
                        &from,
                        manifest.shape().height,
                        &bars,
                    )?;
                    manifest.write_packed(&corpus, &out)?;
                    corpus
                }
                "gtsrb" => {
                    eprintln!(
                        "decoding and preprocessing the PPMs under {} …",
                        from.display()
                    );
                    repair_data::import_gtsrb_official(
                        &manifest,
                        &from,
                        &out,
                        &repair_data::gtsrb_study_preprocess(),
                    )?
                }
                other => bail!("no importer for `{other}` (gtsrb or rsna)"),
            };
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
            repair_data::fetch_official(&manifest, &out, &crate::curl::Curl, &Bars::default())?;
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
