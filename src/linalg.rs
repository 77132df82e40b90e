//! Small dense linear algebra: the symmetric eigen-decomposition used to check and factor
//! covariance matrices (which may be singular, so plain Cholesky will not do).

use ndarray::Array2;

/// Eigenvalues (ascending) and eigenvectors (columns, same order) of a symmetric matrix, by the
/// cyclic Jacobi method: accurate to rounding for the small matrices of a program's
/// covariances, and unconditionally convergent.
pub fn symmetric_eigen(matrix: &Array2<f64>) -> (Vec<f64>, Array2<f64>) {
    let n = matrix.nrows();
    assert_eq!(n, matrix.ncols(), "symmetric_eigen needs a square matrix");
    let mut a = matrix.clone();
    let mut v = Array2::<f64>::eye(n);
    for _sweep in 0..100 {
        let off: f64 = (0..n)
            .flat_map(|i| (0..n).filter(move |&j| j != i).map(move |j| (i, j)))
            .map(|(i, j)| a[[i, j]] * a[[i, j]])
            .sum();
        let scale: f64 = a.iter().map(|x| x * x).sum::<f64>();
        if off <= 1e-30 * scale || off == 0.0 {
            break;
        }
        for p in 0..n {
            for q in p + 1..n {
                let apq = a[[p, q]];
                if apq == 0.0 {
                    continue;
                }
                let theta = (a[[q, q]] - a[[p, p]]) / (2.0 * apq);
                let t = theta.signum() / (theta.abs() + (theta * theta + 1.0).sqrt());
                let t = if theta == 0.0 { 1.0 } else { t };
                let c = 1.0 / (t * t + 1.0).sqrt();
                let s = t * c;
                for k in 0..n {
                    let akp = a[[k, p]];
                    let akq = a[[k, q]];
                    a[[k, p]] = c * akp - s * akq;
                    a[[k, q]] = s * akp + c * akq;
                }
                for k in 0..n {
                    let apk = a[[p, k]];
                    let aqk = a[[q, k]];
                    a[[p, k]] = c * apk - s * aqk;
                    a[[q, k]] = s * apk + c * aqk;
                }
                for k in 0..n {
                    let vkp = v[[k, p]];
                    let vkq = v[[k, q]];
                    v[[k, p]] = c * vkp - s * vkq;
                    v[[k, q]] = s * vkp + c * vkq;
                }
            }
        }
    }
    let mut order: Vec<usize> = (0..n).collect();
    order.sort_by(|&i, &j| a[[i, i]].total_cmp(&a[[j, j]]));
    let values = order.iter().map(|&i| a[[i, i]]).collect();
    let vectors = Array2::from_shape_fn((n, n), |(r, c)| v[[r, order[c]]]);
    (values, vectors)
}

#[cfg(test)]
mod tests {
    use super::*;
    use ndarray::array;

    #[test]
    fn reconstructs_a_symmetric_matrix() {
        let m = array![[4.0, 1.0, 0.5], [1.0, 3.0, -0.2], [0.5, -0.2, 1.0]];
        let (values, vectors) = symmetric_eigen(&m);
        let d = Array2::from_diag(&ndarray::Array1::from(values.clone()));
        let back = vectors.dot(&d).dot(&vectors.t());
        for (x, y) in back.iter().zip(m.iter()) {
            assert!((x - y).abs() < 1e-12);
        }
        assert!(values.windows(2).all(|w| w[0] <= w[1]));
    }

    #[test]
    fn finds_a_negative_eigenvalue() {
        // [[1, 2], [2, 1]] has eigenvalues -1 and 3.
        let (values, _) = symmetric_eigen(&array![[1.0, 2.0], [2.0, 1.0]]);
        assert!((values[0] + 1.0).abs() < 1e-14 && (values[1] - 3.0).abs() < 1e-14);
    }
}
