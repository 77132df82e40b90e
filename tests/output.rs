//! `tpc::output`: collecting outputs in program order, the number format of the eval table,
//! and the `.npy`, CSV and JSON writers (the CLI's use of them is in tests/cli.rs).

use ndarray::{ArrayD, IxDyn};
use tpc::eval::Used;
use tpc::output::{
    collect, format_number, to_text, write_csv, write_json, write_npy, FamilyValue, JsonOutputs,
    OutputValue,
};

fn outputs_of(source: &str) -> Vec<OutputValue> {
    let program = tpc::compile(source.as_bytes(), &Default::default())
        .unwrap_or_else(|d| panic!("{}", d.render("test.tp", source)));
    let limit = tpc::limit::derive(&program).expect("derives");
    let evaluation = tpc::eval::evaluate(&limit, &Default::default(), None).expect("evaluates");
    collect(&program, &limit, &evaluation)
}

fn family(output: &OutputValue) -> &FamilyValue {
    match output {
        OutputValue::Family(f) => f,
        OutputValue::Scalar { name, .. } => panic!("`{name}` is a scalar"),
    }
}

#[test]
fn numbers_have_12_significant_digits_and_switch_to_scientific_notation() {
    for (x, text) in [
        (-0.0, "0"),
        (0.0, "0"),
        (1.234567e-9, "1.234567e-9"),
        (1e308, "1e308"),
        (-1e-300, "-1e-300"),
        (f64::MIN_POSITIVE, "2.22507385851e-308"),
        (0.960048508667, "0.960048508667"),
        (2.928430027776978, "2.92843002778"),
        (4.0, "4"),
        (-2.5, "-2.5"),
        (0.9, "0.9"),
        (1e-4, "0.0001"),
        (9.99e-5, "9.99e-5"),
        (0.00012345678901234, "0.000123456789012"),
        (999_999_999.0, "999999999"),
        (1e9, "1e9"),
        (123_456_789_012_345.0, "1.23456789012e14"),
        // Rounding to 12 digits crosses a power of ten: the exponent is the rounded one.
        (9.9999999999999, "10"),
        (999_999_999.9999999, "1e9"),
        (f64::INFINITY, "inf"),
        (f64::NEG_INFINITY, "-inf"),
    ] {
        assert_eq!(format_number(x), text, "{x:e}");
    }
    // NaN marks an undefined family member: never printed as a value.
    assert_eq!(format_number(f64::NAN), "·");
    assert_eq!(format_number(-f64::NAN), "·");
}

#[test]
fn outputs_come_in_program_order_with_families_grouped() {
    let outputs = outputs_of(
        "vector h[i in 0..3] ~ N(0, eye(3))
         for i in 0..3, j in i..3 { K[i, j] = mean(h[i] * h[j]) + i }
         for t in 1..4 { v[t] = 2 * t * mean(h[0] * h[0]) }
         z = mean(h[0] * h[1])
         scalar b = 1.0
         output z, K, K[0, 2], v, b, z
        ",
    );
    let names: Vec<&str> = outputs.iter().map(|o| o.name()).collect();
    // `K[0, 2]` listed on its own is a scalar; `z` listed twice is reported once.
    assert_eq!(names, ["z", "K", "K[0, 2]", "v", "b"]);
    let k = family(&outputs[1]);
    assert_eq!(k.start, [0, 0]);
    assert_eq!(k.values.shape(), [3, 3]);
    assert_eq!(k.method, Used::Exact);
    // E[h_i h_j] = δ_ij, plus i; exact.
    for i in 0..3 {
        for j in 0..3 {
            let (x, e) = (k.values[[i, j]], k.errors[[i, j]]);
            if j < i {
                assert!(x.is_nan() && e.is_nan(), "K[{i}, {j}]");
            } else {
                let expected = i as f64 + if i == j { 1.0 } else { 0.0 };
                assert!((x - expected).abs() < 1e-14, "K[{i}, {j}] = {x}");
            }
        }
    }
    assert_eq!(k.defined(), 6);
    assert_eq!(k.range(), Some((0.0, 3.0)));
    let v = family(&outputs[3]);
    assert_eq!(v.start, [1]);
    assert_eq!(v.values.as_slice().unwrap(), [2.0, 4.0, 6.0]);
    assert!(
        matches!(&outputs[4], OutputValue::Scalar { value, .. } if value.method == Used::Given)
    );
}

fn array(shape: &[usize], values: &[f64]) -> ArrayD<f64> {
    ArrayD::from_shape_vec(IxDyn(shape), values.to_vec()).unwrap()
}

fn family_value(name: &str, start: &[i64], values: ArrayD<f64>) -> FamilyValue {
    FamilyValue {
        name: name.to_string(),
        start: start.to_vec(),
        errors: values.mapv(|x| if x.is_nan() { x } else { 1e-12 }),
        values,
        method: Used::Quadrature,
    }
}

/// The header and values of `.npy` bytes, checking magic, version and alignment.
fn read_npy(bytes: &[u8]) -> (String, Vec<f64>) {
    assert_eq!(&bytes[..8], b"\x93NUMPY\x01\x00");
    let length = u16::from_le_bytes([bytes[8], bytes[9]]) as usize;
    assert_eq!((10 + length) % 64, 0);
    let header = std::str::from_utf8(&bytes[10..10 + length]).unwrap();
    assert!(
        header.ends_with(" \n") || header.ends_with("}\n"),
        "{header:?}"
    );
    let values = bytes[10 + length..]
        .chunks_exact(8)
        .map(|c| f64::from_le_bytes(c.try_into().unwrap()))
        .collect();
    (header.trim_end().to_string(), values)
}

#[test]
fn npy_files_read_back_in_c_order() {
    for (shape, dims) in [
        (vec![3], "(3,)"),
        (vec![2, 3], "(2, 3)"),
        (vec![2, 1, 3], "(2, 1, 3)"),
    ] {
        let all = [1.5, f64::NAN, -0.0, 1e-300, 2.0, f64::MAX];
        let data = &all[..shape.iter().product::<usize>()];
        let mut bytes = Vec::new();
        write_npy(&mut bytes, &array(&shape, data)).unwrap();
        let (header, values) = read_npy(&bytes);
        assert_eq!(
            header,
            format!("{{'descr': '<f8', 'fortran_order': False, 'shape': {dims}, }}")
        );
        let bits = |v: &[f64]| v.iter().map(|x| x.to_bits()).collect::<Vec<_>>();
        assert_eq!(bits(&values), bits(data), "{shape:?}");
    }
    // A transposed view is written in its logical order, not its memory order.
    let matrix = array(&[2, 3], &[1.0, 2.0, 3.0, 4.0, 5.0, 6.0]);
    let mut bytes = Vec::new();
    write_npy(&mut bytes, &matrix.t().to_owned()).unwrap();
    let (header, values) = read_npy(&bytes);
    assert!(header.contains("'shape': (3, 2)"), "{header}");
    assert_eq!(values, [1.0, 4.0, 2.0, 5.0, 3.0, 6.0]);
}

fn csv(family: &FamilyValue) -> String {
    let mut bytes = Vec::new();
    write_csv(&mut bytes, family).unwrap();
    String::from_utf8(bytes).unwrap()
}

#[test]
fn csv_rows_per_rank() {
    let nan = f64::NAN;
    let vector = family_value("v", &[1], array(&[3], &[0.5, -0.0, 1.5e-9]));
    assert_eq!(csv(&vector), "0.5\n0\n1.5e-9\n");
    let matrix = family_value(
        "K",
        &[0, 0],
        array(&[2, 3], &[1.0, 0.1, 2.0 / 3.0, nan, 1e20, -4.0]),
    );
    assert_eq!(csv(&matrix), "1,0.1,0.6666666666666666\n,1e20,-4\n");
    // Rank 3: flattened, defined members only, indices as in the program.
    let cube = family_value("S", &[1, 0, 0], array(&[2, 1, 2], &[1.0, 0.9, nan, 2.25]));
    assert_eq!(
        csv(&cube),
        "index1,index2,index3,value\n1,0,0,1\n1,0,1,0.9\n2,0,1,2.25\n"
    );
}

#[test]
fn json_keeps_program_order_and_writes_nan_as_null() {
    let outputs = vec![
        OutputValue::Scalar {
            name: "zeta".into(),
            value: tpc::eval::Value {
                value: -0.0,
                error: 0.0,
                method: Used::Exact,
            },
        },
        OutputValue::Family(family_value(
            "K",
            &[0, 1],
            array(&[2, 2], &[1.0, 0.5, f64::NAN, 2.0]),
        )),
        OutputValue::Scalar {
            name: "alpha".into(),
            value: tpc::eval::Value {
                value: 0.25,
                error: 1e-3,
                method: Used::MonteCarlo,
            },
        },
    ];
    let notes = vec![
        tpc::eval::Note::new("alpha", "Monte Carlo, because reasons"),
        tpc::eval::Note::measured("K[0, 1]", "stopped short", "error estimate", 1e-9),
    ];
    let mut bytes = Vec::new();
    write_json(&mut bytes, &outputs, &notes, JsonOutputs::Nested).unwrap();
    let text = String::from_utf8(bytes).unwrap();
    let at = |key: &str| text.find(&format!("\"{key}\"")).unwrap();
    assert!(at("zeta") < at("K") && at("K") < at("alpha"), "{text}");
    let json: serde_json::Value = serde_json::from_str(&text).unwrap();
    assert_eq!(
        json,
        serde_json::json!({
            "outputs": {
                "zeta": {"value": 0.0, "error": 0.0, "method": "exact"},
                "K": {
                    "value": [[1.0, 0.5], [null, 2.0]],
                    "error": [[1e-12, 1e-12], [null, 1e-12]],
                    "method": "quadrature",
                    "start": [0, 1]
                },
                "alpha": {"value": 0.25, "error": 1e-3, "method": "monte-carlo"}
            },
            "notes": [
                {"kind": "Monte Carlo, because reasons", "entry": "alpha"},
                {
                    "kind": "stopped short",
                    "entry": "K[0, 1]",
                    "measure": {"name": "error estimate", "value": 1e-9}
                }
            ]
        })
    );
    assert!(!text.contains("-0.0"), "{text}");
}

#[test]
fn the_table_shows_small_families_whole_and_large_ones_by_a_corner() {
    let small = family_value("K", &[0, 0], array(&[2, 2], &[1.0, 0.5, f64::NAN, 2.0]));
    let text = to_text(&[OutputValue::Family(small)]);
    assert_eq!(
        text,
        "output                 value      error  method
K                  2×2 array      1e-12  quadrature
     0    1
  0  1  0.5
  1  ·    2
"
    );
    let values: Vec<f64> = (0..20 * 30).map(|k| k as f64 * 1e-10).collect();
    let large = family_value("Big", &[0, 5], array(&[20, 30], &values));
    let text = to_text(&[OutputValue::Family(large)]);
    let lines: Vec<&str> = text.lines().collect();
    assert!(
        lines[1].starts_with("Big              20×30 array"),
        "{text}"
    );
    assert_eq!(
        lines[2],
        "  min 0, max 5.99e-8 over 600 defined entries; the top-left corner:"
    );
    assert_eq!(
        lines[3], "          5        6        7        8        9       10",
        "{text}"
    );
    assert!(
        lines[4].starts_with("  0       0    1e-10    2e-10"),
        "{text}"
    );
    assert!(lines[4].ends_with("  …"), "{text}");
    assert_eq!(lines.len(), 2 + 1 + 1 + 6 + 1 + 1, "{text}");
    assert!(
        lines[lines.len() - 1].contains("--out DIR` writes Big.npy"),
        "{text}"
    );
}
