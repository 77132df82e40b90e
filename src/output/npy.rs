//! NumPy's `.npy` format, version 1.0, for float64 arrays.

use ndarray::ArrayD;
use std::io::{self, Write};

/// Writes an array as a `.npy` file: the magic `\x93NUMPY`, version 1.0, the header dict
/// `{'descr': '<f8', 'fortran_order': False, 'shape': (…), }` padded with spaces and a newline
/// so the data starts at a multiple of 64 bytes, then the values as little-endian float64 in
/// C (row-major) order. `numpy.load` reads it; NaN entries stay NaN.
pub fn write_npy(out: &mut impl Write, array: &ArrayD<f64>) -> io::Result<()> {
    let shape = match array.shape() {
        [n] => format!("({n},)"),
        dims => format!(
            "({})",
            dims.iter()
                .map(|d| d.to_string())
                .collect::<Vec<_>>()
                .join(", ")
        ),
    };
    let mut header = format!("{{'descr': '<f8', 'fortran_order': False, 'shape': {shape}, }}");
    // Magic (6) + version (2) + header length (2) + header, a multiple of 64, ending in '\n'.
    let unpadded = 10 + header.len() + 1;
    header.push_str(&" ".repeat((64 - unpadded % 64) % 64));
    header.push('\n');
    let length = u16::try_from(header.len())
        .map_err(|_| io::Error::new(io::ErrorKind::InvalidInput, "npy header too long"))?;
    out.write_all(b"\x93NUMPY\x01\x00")?;
    out.write_all(&length.to_le_bytes())?;
    out.write_all(header.as_bytes())?;
    // `iter` visits the entries in logical row-major order whatever the memory layout; the
    // bytes go out in chunks, never a second copy of a large array.
    let mut chunk = Vec::with_capacity(1 << 16);
    for value in array.iter() {
        chunk.extend_from_slice(&value.to_le_bytes());
        if chunk.len() == chunk.capacity() {
            out.write_all(&chunk)?;
            chunk.clear();
        }
    }
    out.write_all(&chunk)
}
