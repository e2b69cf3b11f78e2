//! Reusable per-thread work buffers (column matrices, GEMM products, gathered
//! gradients). A training step needs the same few large buffers every time; taking them
//! from a small per-thread free list instead of fresh allocations saves the page faults
//! of newly mapped memory, which cost as much as the copies themselves.

use std::cell::RefCell;
use std::ops::{Deref, DerefMut};

/// Buffers kept per thread at most.
const KEEP: usize = 8;

thread_local! {
    static FREE: RefCell<Vec<Vec<f32>>> = const { RefCell::new(Vec::new()) };
}

/// A work buffer of a given length whose **contents are unspecified** (left over from
/// earlier use): every user overwrites what it reads. Returned to the thread's free list
/// when dropped.
pub(crate) struct Scratch(Vec<f32>);

impl Scratch {
    /// A buffer of `len` values, reusing the smallest free one that is large enough.
    pub fn new(len: usize) -> Self {
        let reused = FREE.with(|free| {
            let mut free = free.borrow_mut();
            let fit = free
                .iter()
                .enumerate()
                .filter(|(_, v)| v.capacity() >= len)
                .min_by_key(|(_, v)| v.capacity())
                .map(|(k, _)| k);
            fit.map(|k| free.swap_remove(k))
        });
        let mut v = reused.unwrap_or_default();
        if v.len() < len {
            v.resize(len, 0.0);
        }
        v.truncate(len);
        Scratch(v)
    }
}

impl Deref for Scratch {
    type Target = [f32];

    fn deref(&self) -> &[f32] {
        &self.0
    }
}

impl DerefMut for Scratch {
    fn deref_mut(&mut self) -> &mut [f32] {
        &mut self.0
    }
}

impl Drop for Scratch {
    fn drop(&mut self) {
        let v = std::mem::take(&mut self.0);
        FREE.with(|free| {
            let mut free = free.borrow_mut();
            if free.len() < KEEP {
                free.push(v);
            } else if let Some(smallest) = free.iter_mut().min_by_key(|f| f.capacity()) {
                if smallest.capacity() < v.capacity() {
                    *smallest = v;
                }
            }
        });
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn buffers_are_reused_and_sized() {
        let first = Scratch::new(1000);
        let ptr = first.as_ptr();
        drop(first);
        let again = Scratch::new(600);
        assert_eq!(again.len(), 600);
        assert_eq!(again.as_ptr(), ptr, "the free buffer is reused");
    }
}
