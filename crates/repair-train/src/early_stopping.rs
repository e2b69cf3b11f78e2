//! Early stopping on validation loss (the paper: patience 5). A strategy object in the
//! manner of burn's `EarlyStoppingStrategy`: fed one loss per epoch, it says whether to
//! stop; the converged epoch is the one with the lowest validation loss.

use serde::{Deserialize, Serialize};

/// Tracks the best validation loss; serialisable so a resumed run keeps its patience.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct EarlyStopping {
    patience: usize,
    best: Option<(usize, f64)>,
}

impl EarlyStopping {
    /// Stop after `patience` epochs without a strictly lower validation loss
    /// (Keras' `EarlyStopping(monitor="val_loss", patience=5)`, min_delta 0).
    pub fn new(patience: usize) -> Self {
        EarlyStopping {
            patience,
            best: None,
        }
    }

    /// Records the loss of `epoch` (1-based); true when training should stop.
    pub fn should_stop(&mut self, epoch: usize, val_loss: f64) -> bool {
        match self.best {
            Some((_, best)) if val_loss >= best => {}
            _ => self.best = Some((epoch, val_loss)),
        }
        let (best_epoch, _) = self.best.expect("set above");
        epoch - best_epoch >= self.patience
    }

    /// The converged epoch: lowest validation loss so far (first on ties).
    pub fn best_epoch(&self) -> Option<usize> {
        self.best.map(|(e, _)| e)
    }

    /// The lowest validation loss so far.
    pub fn best_loss(&self) -> Option<f64> {
        self.best.map(|(_, l)| l)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn never_stops_while_the_loss_keeps_falling() {
        let mut es = EarlyStopping::new(2);
        for (e, loss) in [3.0, 2.0, 1.0, 0.5].into_iter().enumerate() {
            assert!(!es.should_stop(e + 1, loss));
        }
        assert_eq!(es.best_epoch(), Some(4));
    }

    #[test]
    fn stops_after_patience_epochs_without_improvement_and_keeps_the_best() {
        let mut es = EarlyStopping::new(3);
        let losses = [1.0, 0.8, 0.9, 0.8, 0.85];
        let stops: Vec<bool> = losses
            .iter()
            .enumerate()
            .map(|(e, &l)| es.should_stop(e + 1, l))
            .collect();
        // Epoch 4 ties 0.8 (not an improvement); epoch 5 is the third without one.
        assert_eq!(stops, vec![false, false, false, false, true]);
        assert_eq!(es.best_epoch(), Some(2));
    }
}
