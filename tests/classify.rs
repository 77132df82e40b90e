//! The classification of abc-parametrizations: reference case 6 row by row, snapshots of the
//! text report, the SGD and Adam symmetries as properties, `tpc classify` on the command line,
//! and the worked example of `docs/parametrizations.md`.

use proptest::prelude::*;
use std::process::{Command, Output};
use tpc::param::{
    classify, classify_adam, parse_exponent, Abc, AdamAbc, Classification, Exponent, Preset,
};

fn q(text: &str) -> Exponent {
    parse_exponent(text).unwrap_or_else(|e| panic!("{e}"))
}

fn qs(text: &str) -> Vec<Exponent> {
    text.split(',').map(q).collect()
}

fn sp(c: i64) -> Preset {
    Preset::Sp {
        c: Exponent::from_integer(c),
    }
}

/// One row of reference case 6.
struct Row {
    depth: usize,
    preset: Preset,
    a: &'static str,
    b: &'static str,
    c: &'static str,
    r: &'static str,
    r_layers: &'static str,
    readout_update: &'static str,
    readout_init_effect: &'static str,
    /// The quantities of the violated conditions; empty when stable.
    violated: &'static [&'static str],
    /// (nontrivial, feature learning, kernel regime); `None` where the table has "–".
    regime: Option<(bool, bool, bool)>,
    /// Hidden layers learning features (`None` for "–" of an unstable row).
    layers_learning: Option<&'static [usize]>,
}

#[rustfmt::skip]
const CASE_6: &[Row] = &[
    Row { depth: 1, preset: Preset::Sp { c: Exponent::new_raw(1, 1) }, a: "0,0", b: "0,1/2", c: "1", r: "3/2", r_layers: "3/2", readout_update: "1", readout_init_effect: "2", violated: &[], regime: Some((true, false, true)), layers_learning: Some(&[]) },
    Row { depth: 1, preset: Preset::Sp { c: Exponent::new_raw(0, 1) }, a: "0,0", b: "0,1/2", c: "0", r: "0", r_layers: "0", readout_update: "0", readout_init_effect: "1/2", violated: &["2a_2 + c", "a_2 + b_2 + r"], regime: None, layers_learning: None },
    Row { depth: 1, preset: Preset::Ntp, a: "0,1/2", b: "0,0", c: "0", r: "1/2", r_layers: "1/2", readout_update: "1", readout_init_effect: "1", violated: &[], regime: Some((true, false, true)), layers_learning: Some(&[]) },
    Row { depth: 1, preset: Preset::Mup, a: "-1/2,1/2", b: "1/2,1/2", c: "0", r: "0", r_layers: "0", readout_update: "1", readout_init_effect: "1", violated: &[], regime: Some((true, true, false)), layers_learning: Some(&[1]) },
    Row { depth: 1, preset: Preset::Mfp, a: "0,1", b: "0,0", c: "-1", r: "0", r_layers: "0", readout_update: "1", readout_init_effect: "1", violated: &[], regime: Some((true, true, false)), layers_learning: Some(&[1]) },
    Row { depth: 2, preset: Preset::Sp { c: Exponent::new_raw(1, 1) }, a: "0,0,0", b: "0,1/2,1/2", c: "1", r: "1/2", r_layers: "3/2,1/2", readout_update: "1", readout_init_effect: "1", violated: &[], regime: Some((true, false, true)), layers_learning: Some(&[]) },
    Row { depth: 2, preset: Preset::Sp { c: Exponent::new_raw(0, 1) }, a: "0,0,0", b: "0,1/2,1/2", c: "0", r: "-1", r_layers: "0,-1", readout_update: "0", readout_init_effect: "-1/2", violated: &["r", "2a_3 + c", "a_3 + b_3 + r"], regime: None, layers_learning: None },
    Row { depth: 2, preset: Preset::Ntp, a: "0,1/2,1/2", b: "0,0,0", c: "0", r: "1/2", r_layers: "1/2,1/2", readout_update: "1", readout_init_effect: "1", violated: &[], regime: Some((true, false, true)), layers_learning: Some(&[]) },
    Row { depth: 2, preset: Preset::Mup, a: "-1/2,0,1/2", b: "1/2,1/2,1/2", c: "0", r: "0", r_layers: "0,0", readout_update: "1", readout_init_effect: "1", violated: &[], regime: Some((true, true, false)), layers_learning: Some(&[1, 2]) },
    Row { depth: 2, preset: Preset::Mfp, a: "0,1/2,1", b: "0,0,0", c: "-1", r: "0", r_layers: "0,0", readout_update: "1", readout_init_effect: "1", violated: &[], regime: Some((true, true, false)), layers_learning: Some(&[1, 2]) },
    Row { depth: 2, preset: Preset::NaiveMf, a: "0,1,1", b: "0,0,0", c: "-1", r: "0", r_layers: "0,1", readout_update: "1", readout_init_effect: "1", violated: &["a_2 + b_2"], regime: None, layers_learning: None },
    Row { depth: 3, preset: Preset::Sp { c: Exponent::new_raw(1, 1) }, a: "0,0,0,0", b: "0,1/2,1/2,1/2", c: "1", r: "1/2", r_layers: "3/2,1/2,1/2", readout_update: "1", readout_init_effect: "1", violated: &[], regime: Some((true, false, true)), layers_learning: Some(&[]) },
    Row { depth: 3, preset: Preset::Sp { c: Exponent::new_raw(0, 1) }, a: "0,0,0,0", b: "0,1/2,1/2,1/2", c: "0", r: "-1", r_layers: "0,-1,-1", readout_update: "0", readout_init_effect: "-1/2", violated: &["r", "2a_4 + c", "a_4 + b_4 + r"], regime: None, layers_learning: None },
    Row { depth: 3, preset: Preset::Ntp, a: "0,1/2,1/2,1/2", b: "0,0,0,0", c: "0", r: "1/2", r_layers: "1/2,1/2,1/2", readout_update: "1", readout_init_effect: "1", violated: &[], regime: Some((true, false, true)), layers_learning: Some(&[]) },
    Row { depth: 3, preset: Preset::Mup, a: "-1/2,0,0,1/2", b: "1/2,1/2,1/2,1/2", c: "0", r: "0", r_layers: "0,0,0", readout_update: "1", readout_init_effect: "1", violated: &[], regime: Some((true, true, false)), layers_learning: Some(&[1, 2, 3]) },
    Row { depth: 3, preset: Preset::Mfp, a: "0,1/2,1/2,1", b: "0,0,0,0", c: "-1", r: "0", r_layers: "0,0,0", readout_update: "1", readout_init_effect: "1", violated: &[], regime: Some((true, true, false)), layers_learning: Some(&[1, 2, 3]) },
    Row { depth: 3, preset: Preset::NaiveMf, a: "0,1,1,1", b: "0,0,0,0", c: "-1", r: "0", r_layers: "0,1,1", readout_update: "1", readout_init_effect: "1", violated: &["a_2 + b_2", "a_3 + b_3"], regime: None, layers_learning: None },
];

#[test]
fn reference_case_6_row_by_row() {
    for row in CASE_6 {
        let what = format!("L = {}, {:?}", row.depth, row.preset);
        let abc = Abc::preset(row.preset, row.depth);
        assert_eq!(
            abc,
            Abc::new(qs(row.a), qs(row.b), q(row.c)).unwrap(),
            "{what}"
        );
        let k = classify(&abc).unwrap();
        assert_eq!(k.r, q(row.r), "{what}: r");
        assert_eq!(k.r_layers, qs(row.r_layers), "{what}: r_l");
        assert_eq!(k.readout_update, q(row.readout_update), "{what}: 2a+c");
        assert_eq!(
            k.readout_init_effect,
            q(row.readout_init_effect),
            "{what}: a+b+r"
        );
        let violated: Vec<&str> = k
            .conditions
            .iter()
            .filter(|c| !c.holds)
            .map(|c| c.quantity.as_str())
            .collect();
        assert_eq!(violated, row.violated, "{what}: violated conditions");
        assert_eq!(k.stable, row.violated.is_empty(), "{what}: stable");
        assert_eq!(
            k.nontrivial
                .map(|n| (n, k.feature_learning.unwrap(), k.kernel_regime.unwrap())),
            row.regime,
            "{what}: nontrivial, feature learning, kernel regime"
        );
        assert_eq!(
            k.layers_learning_features.as_deref(),
            row.layers_learning,
            "{what}: layers learning features"
        );
        // μP and its shift MFP update every layer maximally (TP4 Thm 5.6); nothing else does.
        let mup_class = matches!(row.preset, Preset::Mup | Preset::Mfp);
        assert_eq!(
            k.maximal.as_ref().map(|m| m.mup),
            k.stable.then_some(mup_class)
        );
    }
}

#[test]
fn the_kernel_of_each_kernel_regime() {
    // docs/parametrizations.md: NTP gives the NTK; SP with c = 1 drops layer 1 for L >= 2 and
    // keeps only the readout for L = 1 (verified in reference case 5B).
    for depth in 1..=3 {
        let ntp = classify(&Abc::preset(Preset::Ntp, depth)).unwrap();
        let kernel = ntp.kernel.unwrap();
        assert!(kernel.ntk);
        assert_eq!(kernel.layers, (1..=depth + 1).collect::<Vec<_>>());
        let sp = classify(&Abc::preset(sp(1), depth))
            .unwrap()
            .kernel
            .unwrap();
        assert!(!sp.ntk);
        let expected: Vec<usize> = if depth == 1 {
            vec![2]
        } else {
            (2..=depth + 1).collect()
        };
        assert_eq!(sp.layers, expected, "SP, c = 1, L = {depth}");
        assert_eq!(
            classify(&Abc::preset(Preset::Mup, depth)).unwrap().kernel,
            None
        );
    }
}

#[test]
fn sp_with_a_constant_learning_rate_needs_c_at_least_1() {
    // TP4 Thm 4.1: SP needs lr O(1/n).
    for depth in 1..=3 {
        let k = classify(&Abc::preset(sp(0), depth)).unwrap();
        assert!(!k.stable);
        assert_eq!(k.smallest_stable_c, Some(q("1")));
        assert!(k
            .to_string()
            .contains("stable exactly when c ≥ 1 (here c = 0)"));
    }
    let naive = classify(&Abc::preset(Preset::NaiveMf, 2)).unwrap();
    assert_eq!(naive.smallest_stable_c, None);
}

#[test]
fn text_reports() {
    let presets = [
        ("sp_c0", sp(0)),
        ("sp_c1", sp(1)),
        ("ntp", Preset::Ntp),
        ("mup", Preset::Mup),
        ("mfp", Preset::Mfp),
    ];
    for depth in 1..=3 {
        for (name, preset) in presets {
            let k = classify(&Abc::preset(preset, depth)).unwrap();
            insta::assert_snapshot!(format!("classify_{name}_L{depth}"), k.to_string());
        }
    }
    let naive = classify(&Abc::preset(Preset::NaiveMf, 3)).unwrap();
    insta::assert_snapshot!("classify_naive_mf_L3", naive.to_string());
    let adam = classify_adam(&AdamAbc::preset(Preset::Mup, 2).unwrap()).unwrap();
    insta::assert_snapshot!("classify_adam_mup_L2", adam.to_string());
    let adam_sp = classify_adam(&AdamAbc::preset(sp(0), 2).unwrap()).unwrap();
    insta::assert_snapshot!("classify_adam_sp_L2", adam_sp.to_string());
}

/// A small rational: numerator in -12..=12, denominator in 1..=6.
fn small() -> impl Strategy<Value = Exponent> {
    (-12i64..=12, 1i64..=6).prop_map(|(p, d)| Exponent::new(p, d))
}

/// Exponents a, b for L = 1..=4 hidden layers: half the time b satisfies condition (i), so
/// that stable parametrizations are well represented.
fn a_and_b() -> impl Strategy<Value = (Vec<Exponent>, Vec<Exponent>)> {
    (1usize..=4).prop_flat_map(|depth| {
        (
            prop::collection::vec(small(), depth + 1),
            prop::collection::vec(small(), depth + 1),
            any::<bool>(),
            0i64..=2,
        )
            .prop_map(|(a, b, init, extra)| {
                if !init {
                    return (a, b);
                }
                let readout = a.len() - 1;
                let b = (0..a.len())
                    .map(|l| {
                        let target = match l {
                            0 => Exponent::from_integer(0),
                            _ if l < readout => Exponent::new(1, 2),
                            _ => Exponent::new(1 + extra, 2),
                        };
                        target - a[l]
                    })
                    .collect();
                (a, b)
            })
    })
}

/// The classification with its parametrization replaced, for comparison across a symmetry.
fn as_if(mut k: Classification, abc: &Abc, c_shift: Exponent) -> Classification {
    k.abc = abc.clone();
    k.smallest_stable_c = k.smallest_stable_c.map(|c| c + c_shift);
    k
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 512, ..ProptestConfig::default() })]

    /// (a + θ, b − θ, c − 2θ) leaves everything but the exponents themselves unchanged, and
    /// stability is exactly c ≥ the smallest stable c.
    #[test]
    fn sgd_classification_is_invariant_under_the_symmetry(
        (a, b) in a_and_b(), c in small(), theta in small(),
    ) {
        let abc = Abc::new(a, b, c).unwrap();
        let k = classify(&abc).unwrap();
        let shifted = classify(&abc.shifted(theta).unwrap()).unwrap();
        prop_assert_eq!(as_if(shifted, &abc, theta + theta), k.clone());
        if let Some(c_min) = k.smallest_stable_c {
            prop_assert_eq!(k.stable, abc.c >= c_min);
        }
        prop_assert_eq!(k.feature_learning.is_some(), k.kernel_regime.is_some());
        if let (Some(f), Some(kr)) = (k.feature_learning, k.kernel_regime) {
            // The dynamical dichotomy (TP4 Cor 3.9).
            prop_assert!(f != kr);
            prop_assert_eq!(kr, k.kernel.is_some());
        }
    }

    /// (a + θ, b − θ, c_l − θ) leaves Adam's verdicts unchanged.
    #[test]
    fn adam_classification_is_invariant_under_its_symmetry(
        (a, b) in a_and_b(), c in prop::collection::vec(small(), 5), theta in small(),
    ) {
        let c = c[..a.len()].to_vec();
        let abc = AdamAbc::new(a, b, c).unwrap();
        let k = classify_adam(&abc).unwrap();
        let mut shifted = classify_adam(&abc.shifted(theta).unwrap()).unwrap();
        shifted.abc = abc.clone();
        prop_assert_eq!(shifted, k);
    }
}

fn tpc(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_tpc"))
        .args(args)
        .output()
        .expect("tpc runs")
}

#[test]
fn cli_text_report() {
    let out = tpc(&["classify", "--depth", "2", "--param", "sp"]);
    assert_eq!(out.status.code(), Some(0));
    let text = String::from_utf8(out.stdout).unwrap();
    assert!(text.starts_with("parametrization: SP (preset)\n"), "{text}");
    assert!(
        text.contains("stable: NO, violated: (ii) r ≥ 0 (is -1)"),
        "{text}"
    );
    assert!(
        text.contains("stable exactly when c ≥ 1 (here c = 0)"),
        "{text}"
    );
    let out = tpc(&[
        "classify", "--depth", "1", "--a", "-1/2,0.5", "--b", "0.5,1/2", "--c", "0",
    ]);
    assert_eq!(out.status.code(), Some(0));
    let text = String::from_utf8(out.stdout).unwrap();
    assert!(text.contains("μP: every layer updated maximally"), "{text}");
    let out = tpc(&[
        "classify",
        "--depth",
        "3",
        "--param",
        "mup",
        "--optimizer",
        "adam",
    ]);
    let text = String::from_utf8(out.stdout).unwrap();
    assert!(text.contains("derived, Adam"), "{text}");
    assert!(text.contains("μP for Adam"), "{text}");
}

#[test]
fn cli_json_report() {
    let out = tpc(&[
        "classify",
        "--depth",
        "2",
        "--param",
        "sp",
        "--lr-exponent",
        "1",
        "--format",
        "json",
    ]);
    assert_eq!(out.status.code(), Some(0));
    let json: serde_json::Value = serde_json::from_slice(&out.stdout).expect("valid JSON");
    assert_eq!(json["parametrization"], "SP (preset, --lr-exponent 1)");
    assert_eq!(json["optimizer"], "sgd");
    assert_eq!(json["abc"]["b"], serde_json::json!(["0", "1/2", "1/2"]));
    assert_eq!(json["r_layers"], serde_json::json!(["3/2", "1/2"]));
    assert_eq!(json["r"], "1/2");
    assert_eq!(json["stable"], true);
    assert_eq!(json["kernel_regime"], true);
    assert_eq!(json["kernel"]["layers"], serde_json::json!([2, 3]));
    assert_eq!(json["conditions"][3]["quantity"], "r");
    assert_eq!(json["conditions"][3]["relation"], "at_least");

    let out = tpc(&[
        "classify", "--depth", "2", "--param", "sp", "--format", "json",
    ]);
    let json: serde_json::Value = serde_json::from_slice(&out.stdout).expect("valid JSON");
    assert_eq!(json["stable"], false);
    assert_eq!(json["nontrivial"], serde_json::Value::Null);
    assert_eq!(json["smallest_stable_c"], "1");

    let out = tpc(&[
        "classify",
        "--depth",
        "1",
        "--a",
        "0,0",
        "--b",
        "0,1",
        "--c",
        "0,1",
        "--optimizer",
        "adam",
        "--format",
        "json",
    ]);
    assert_eq!(out.status.code(), Some(0));
    let json: serde_json::Value = serde_json::from_slice(&out.stdout).expect("valid JSON");
    assert_eq!(json["optimizer"], "adam");
    assert_eq!(json["mup"], true);
    assert_eq!(json["layers"][1]["update"], "0");
}

#[test]
fn cli_bad_input_is_a_usage_error() {
    #[rustfmt::skip]
    let cases: &[(&[&str], &str)] = &[
        (&["--depth", "2", "--a", "0,0", "--b", "0,0,0", "--c", "0"], "needs 3 exponents in --a"),
        (&["--depth", "1", "--a", "0,0", "--b", "0", "--c", "0"], "needs 2 exponents in --b"),
        (&["--depth", "1", "--a", "0,1/0", "--b", "0,0", "--c", "0"], "`1/0` is not an exponent"),
        (&["--depth", "1", "--a", "0,x", "--b", "0,0", "--c", "0"], "`x` is not an exponent"),
        (&["--depth", "0", "--param", "mup"], "--depth"),
        (&["--depth", "1001", "--param", "mup"], "--depth"),
        (&["--depth", "1", "--param", "mup", "--a", "0,0", "--b", "0,0", "--c", "0"], "cannot be used with"),
        (&["--depth", "1"], "required"),
        (&["--depth", "1", "--a", "0,0", "--b", "0,0"], "--c"),
        (&["--depth", "1", "--lr-exponent", "1", "--a", "0,0", "--b", "0,0", "--c", "0"], "cannot be used with"),
        (&["--depth", "1", "--a", "0,0", "--b", "0,0", "--c", "0,1"], "with SGD, --c is one"),
        (&["--depth", "1", "--a", "0,0", "--b", "0,0", "--c", "0,1,2", "--optimizer", "adam"], "2 values of c; got 3"),
        (&["--depth", "2", "--param", "mfp", "--optimizer", "adam"], "MFP has no Adam form"),
        (&["--depth", "1", "--param", "sp", "--lr-exponent", "99999999999999999999"], "is not an exponent"),
        (&["--depth", "1", "--a", "1/999999937,1/999999929", "--b", "1/999999893,1/999999883", "--c", "1/999999797"], "overflows"),
        (&["--depth", "1", "--param", "sp", "--format", "xml"], "xml"),
    ];
    for (args, message) in cases {
        let out = tpc(&[&["classify"], *args].concat());
        let stderr = String::from_utf8(out.stderr).unwrap();
        assert_eq!(out.status.code(), Some(2), "{args:?}: {stderr}");
        assert!(stderr.contains(message), "{args:?}: {stderr}");
        assert!(!stderr.contains("panicked"), "{args:?}: {stderr}");
        assert!(out.stdout.is_empty(), "{args:?}");
    }
}

/// The worked example of `docs/parametrizations.md`: a `console` block whose first line is a
/// `$ tpc classify …` command and whose other lines are exactly its output.
#[test]
fn docs_example_is_the_real_output() {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/docs/parametrizations.md");
    let markdown = std::fs::read_to_string(path).expect("docs/parametrizations.md is readable");
    let mut examples = 0;
    let mut lines = markdown.lines();
    while let Some(line) = lines.next() {
        if line.trim() != "```console" {
            continue;
        }
        let block: Vec<&str> = lines.by_ref().take_while(|l| l.trim() != "```").collect();
        let Some(command) = block[0].strip_prefix("$ tpc classify ") else {
            continue;
        };
        let args: Vec<&str> = ["classify"]
            .into_iter()
            .chain(command.split_whitespace())
            .collect();
        let out = tpc(&args);
        assert_eq!(out.status.code(), Some(0), "{command}");
        let expected = block[1..].join("\n") + "\n";
        assert_eq!(
            String::from_utf8(out.stdout).unwrap(),
            expected,
            "{command}"
        );
        examples += 1;
    }
    assert!(
        examples >= 1,
        "no `$ tpc classify` example in docs/parametrizations.md"
    );
}

#[test]
fn help_says_what_sp_defaults_to() {
    let help = String::from_utf8(tpc(&["classify", "--help"]).stdout).unwrap();
    for text in [
        "--param sp has a constant learning rate (c = 0)",
        "c = 1 (--lr-exponent 1) makes it",
        "--optimizer",
        "Examples",
    ] {
        assert!(
            help.contains(text),
            "`tpc classify --help` lacks {text}:\n{help}"
        );
    }
}
