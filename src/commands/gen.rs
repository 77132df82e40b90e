//! `tpc gen mlp`, `tpc gen kernel`, `tpc gen cnn`, `tpc gen resnet` and
//! `tpc gen transformer-block`: write the Tensor Program of SGD training of an abc-parametrized
//! MLP, of the NNGP and NTK kernel matrices of a network over a data file, or of the kernels of
//! a convolutional, residual or transformer network.

use super::param_args::ParamArgs;
use clap::{Args, Subcommand, ValueEnum};
use tpc::builtins::Builtin;
use tpc::param::{
    generate_cnn, generate_kernel, generate_mlp, generate_resnet, generate_transformer, CnnSpec,
    KernelSpec, Loss, MlpSpec, Padding, ResnetSpec, TransformerSpec,
};

/// What to generate.
#[derive(Subcommand, Debug)]
pub enum GenCommand {
    /// SGD training of an L-hidden-layer MLP, unrolled into a `.tp` program.
    #[command(
        after_help = "Examples:\n  tpc gen mlp --depth 2 --steps 1 --param mup --nonlin id > case5c.tp\n  tpc gen mlp --depth 1 --steps 1 --param sp --lr-exponent 1 --nonlin tanh > sp.tp\n  tpc gen mlp --depth 2 --steps 3 --a -1/2,0,1/2 --b 1/2,1/2,1/2 --c 0 --inputs '[[1,0],[0,1]]' --targets '[1,-1]'\n\nThe outputs are f[t, i] (input i at step t, training inputs first), chi[t] and fc{l}[t], the\nfeature change of hidden layer l at the probe input (the first --eval input)."
    )]
    Mlp(MlpArgs),
    /// The NNGP (and NTK) kernel matrices of an L-hidden-layer fully connected network over
    /// the inputs of a data file.
    #[command(
        after_help = "Examples:\n  tpc gen kernel --nonlin relu --depth 3 --inputs inputs.npy --ntk > kernels.tp\n  tpc gen kernel --nonlin erf --depth 2 --inputs data.csv --weight-var 1.5 --bias-var 0.1 > nngp.tp\n  tpc eval kernels.tp --out kernels/     # NNGP.npy, NTK.npy\n\nNTK parametrization; rows of the file are inputs (see `load` in docs/language.md). The\nprogram reads the file with load(\"FILE\"), FILE written as given: relative to the directory\nthe program is saved in. Outputs: NNGP[i, j] = Σ^(L+1)(ξ_i, ξ_j), and with --ntk NTK[i, j]."
    )]
    Kernel(KernelArgs),
    /// The NNGP (and NTK) kernels of a 1-D or 2-D convolutional network with global average
    /// pooling; the inputs are one parallel index, evaluated as arrays.
    #[command(
        after_help = "Examples:\n  tpc gen cnn --dims 2 --kernel 3 --padding same --pool global --inputs '[[[1,0],[0,1]],[[0.5,1],[-1,0]]]' > cnn.tp\n  tpc gen cnn --dims 1 --kernel 2 --padding valid --depth 2 --inputs '[[1,0.5,-0.3,0.7],[0.2,-1,0.8,0.4]]' --ntk\n  tpc gen cnn --dims 2 --kernel 3 --depth 3 --inputs images.json > cnn.tp   # json.dump(x.tolist()), x of shape (N, H, W, C)\n\nInputs: a JSON list of inputs (inline, or a file holding it), each a list of positions (1-D) or\nof rows of positions (2-D), a position being a number or a list of channels (NHWC, as in\nneural-tangents). Outputs NNGP[i, j] (and NTK[i, j]), i ≤ j."
    )]
    Cnn(CnnArgs),
    /// The NNGP (and NTK) kernels of a fully connected residual network on inline inputs.
    #[command(
        after_help = "Examples:\n  tpc gen resnet --blocks 2 --inputs '[[1,0],[0.9,1.2]]' --ntk > resnet.tp\n\nNetwork: dense → B × [identity + (φ → dense)] → φ → dense. Outputs NNGP[i, j] (and NTK[i, j]), i ≤ j."
    )]
    Resnet(ResnetArgs),
    /// The NNGP (and NTK) kernels of a transformer (pre-LayerNorm blocks of attention and MLP
    /// with residual connections) on inline sequences of tokens.
    #[command(
        after_help = "Examples:\n  tpc gen transformer-block --blocks 2 --inputs '[[[1,0],[0.6,0.8],[-0.5,0.5]],[[0.2,-1],[0.9,0.3],[0,1.2]]]' --ntk > transformer.tp\n\nNetwork: dense embedding → B × [x + Attention(LayerNorm(x)), x + W₂ φ(W₁ LayerNorm(x))] → average over\ntokens → dense. Attention ties queries to keys and scales scores by 1/n (neural-tangents'\nGlobalSelfAttention with linear scaling). Inputs: a JSON list of sequences of one length, each a\nlist of tokens (vectors of one dimension). Outputs NNGP[i, j] (and NTK[i, j]), i ≤ j."
    )]
    TransformerBlock(TransformerArgs),
}

/// Arguments of `tpc gen transformer-block`.
#[derive(Args, Debug)]
pub struct TransformerArgs {
    /// The number of transformer blocks.
    #[arg(long, default_value_t = 1, value_parser = clap::value_parser!(u64).range(1..=20))]
    blocks: u64,
    /// The number of attention heads.
    #[arg(long, default_value_t = 1, value_parser = clap::value_parser!(u64).range(1..=16))]
    heads: u64,
    /// The nonlinearity φ of the MLP.
    #[arg(long, default_value = "relu")]
    nonlin: String,
    /// σw² of the embedding, the MLP and the readout [default: 2 for relu, 1 otherwise].
    #[arg(long, value_name = "SW2", allow_hyphen_values = true)]
    weight_var: Option<f64>,
    /// The inputs, a JSON list of sequences of tokens.
    #[arg(long)]
    inputs: String,
    /// Also compute the NTK.
    #[arg(long)]
    ntk: bool,
}

/// Parses `tpc gen transformer-block`'s arguments into a specification.
fn transformer_spec(args: &TransformerArgs) -> Result<TransformerSpec, String> {
    let nonlin = Builtin::from_name(&args.nonlin)
        .ok_or_else(|| format!("unknown nonlinearity `{}`", args.nonlin))?;
    let inputs: Vec<Vec<Vec<f64>>> = serde_json::from_str(&args.inputs).map_err(|e| {
        format!(
            "--inputs must be a JSON list of sequences of tokens such as [[[1, 0], [0.5, -1]], [[0, 1], [1, 1]]]: {e}"
        )
    })?;
    Ok(TransformerSpec {
        nonlin,
        blocks: args.blocks as usize,
        heads: args.heads as usize,
        weight_var: args
            .weight_var
            .unwrap_or_else(|| KernelSpec::default_weight_var(nonlin)),
        inputs,
        ntk: args.ntk,
    })
}

/// Arguments of `tpc gen resnet`.
#[derive(Args, Debug)]
pub struct ResnetArgs {
    /// The number of residual blocks.
    #[arg(long, default_value_t = 2, value_parser = clap::value_parser!(u64).range(1..=100))]
    blocks: u64,
    /// The nonlinearity φ of every branch.
    #[arg(long, default_value = "relu")]
    nonlin: String,
    /// σw² [default: 2 for relu, 1 otherwise].
    #[arg(long, value_name = "SW2", allow_hyphen_values = true)]
    weight_var: Option<f64>,
    /// The inputs, a JSON list of vectors.
    #[arg(long)]
    inputs: String,
    /// Also compute the NTK.
    #[arg(long)]
    ntk: bool,
}

/// Parses `tpc gen resnet`'s arguments into a specification.
fn resnet_spec(args: &ResnetArgs) -> Result<ResnetSpec, String> {
    let nonlin = Builtin::from_name(&args.nonlin)
        .ok_or_else(|| format!("unknown nonlinearity `{}`", args.nonlin))?;
    let inputs: Vec<Vec<f64>> = serde_json::from_str(&args.inputs).map_err(|e| {
        format!("--inputs must be a JSON list of vectors such as [[1, 0], [0.5, -1]]: {e}")
    })?;
    Ok(ResnetSpec {
        nonlin,
        blocks: args.blocks as usize,
        weight_var: args
            .weight_var
            .unwrap_or_else(|| KernelSpec::default_weight_var(nonlin)),
        inputs,
        ntk: args.ntk,
    })
}

/// Padding of `tpc gen cnn`.
#[derive(Clone, Copy, Debug, ValueEnum)]
pub enum PaddingArg {
    /// Zero padding, output size ⌈size/stride⌉.
    Same,
    /// No padding.
    Valid,
}

/// Pooling of `tpc gen cnn`.
#[derive(Clone, Copy, Debug, ValueEnum)]
pub enum PoolArg {
    /// Global average pooling before the dense readout.
    Global,
}

/// Arguments of `tpc gen cnn`.
#[derive(Args, Debug)]
pub struct CnnArgs {
    /// Spatial dimensions, 1 or 2.
    #[arg(long, default_value_t = 2, value_parser = clap::value_parser!(u64).range(1..=2))]
    dims: u64,
    /// Kernel size along each axis.
    #[arg(long, default_value_t = 3, value_parser = clap::value_parser!(u64).range(1..=16))]
    kernel: u64,
    /// Stride along each axis.
    #[arg(long, default_value_t = 1, value_parser = clap::value_parser!(u64).range(1..=16))]
    stride: u64,
    /// Padding of every convolution.
    #[arg(long, value_enum, default_value_t = PaddingArg::Same)]
    padding: PaddingArg,
    /// Pooling before the readout.
    #[arg(long, value_enum, default_value_t = PoolArg::Global)]
    pool: PoolArg,
    /// The number of convolution layers.
    #[arg(long, default_value_t = 2, value_parser = clap::value_parser!(u64).range(1..=20))]
    depth: u64,
    /// The nonlinearity φ after each convolution.
    #[arg(long, default_value = "relu")]
    nonlin: String,
    /// σw² [default: 2 for relu, 1 otherwise].
    #[arg(long, value_name = "SW2", allow_hyphen_values = true)]
    weight_var: Option<f64>,
    /// The inputs, a JSON list (see below), or a file holding one.
    #[arg(long, value_name = "JSON|FILE")]
    inputs: String,
    /// Also compute the NTK.
    #[arg(long)]
    ntk: bool,
}

/// Parses `tpc gen cnn`'s arguments into a specification.
fn cnn_spec(args: &CnnArgs) -> Result<CnnSpec, String> {
    let nonlin = Builtin::from_name(&args.nonlin)
        .ok_or_else(|| format!("unknown nonlinearity `{}`", args.nonlin))?;
    let dims = args.dims as usize;
    // Inline JSON, or a file holding it (a data set of images is too long for a command line).
    let text = match args.inputs.trim_start().starts_with('[') {
        true => args.inputs.clone(),
        false => std::fs::read_to_string(&args.inputs)
            .map_err(|e| format!("--inputs: cannot read `{}`: {e}", args.inputs))?,
    };
    let value: serde_json::Value = serde_json::from_str(&text)
        .map_err(|e| format!("--inputs must be a JSON list of inputs: {e}"))?;
    let mut inputs = Vec::new();
    let mut shape: Option<Vec<usize>> = None;
    let bad = || {
        format!("--inputs: every input must be a {dims}-D grid of numbers or of equal-length lists of channels, all of one shape")
    };
    for input in value.as_array().filter(|a| !a.is_empty()).ok_or_else(bad)? {
        let rows: Vec<&serde_json::Value> = match dims {
            1 => vec![input],
            _ => input.as_array().ok_or_else(bad)?.iter().collect(),
        };
        let mut positions = Vec::new();
        let mut input_shape = vec![rows.len()];
        for row in &rows {
            let row = row.as_array().filter(|r| !r.is_empty()).ok_or_else(bad)?;
            if dims == 1 {
                input_shape = vec![row.len()];
            } else if input_shape.len() == 1 {
                input_shape.push(row.len());
            } else if input_shape[1] != row.len() {
                return Err(bad());
            }
            for x in row {
                let channels: Vec<f64> = match x {
                    serde_json::Value::Array(c) => {
                        c.iter().map(|v| v.as_f64()).collect::<Option<_>>()
                    }
                    v => v.as_f64().map(|v| vec![v]),
                }
                .ok_or_else(bad)?;
                positions.push(channels);
            }
        }
        if positions
            .iter()
            .any(|c| c.is_empty() || c.len() != positions[0].len())
            || shape.as_ref().is_some_and(|s| *s != input_shape)
            || inputs
                .first()
                .is_some_and(|f: &Vec<Vec<f64>>| f[0].len() != positions[0].len())
        {
            return Err(bad());
        }
        shape = Some(input_shape);
        inputs.push(positions);
    }
    let PoolArg::Global = args.pool;
    Ok(CnnSpec {
        nonlin,
        depth: args.depth as usize,
        dims,
        kernel: args.kernel as usize,
        stride: args.stride as usize,
        padding: match args.padding {
            PaddingArg::Same => Padding::Same,
            PaddingArg::Valid => Padding::Valid,
        },
        weight_var: args
            .weight_var
            .unwrap_or_else(|| KernelSpec::default_weight_var(nonlin)),
        inputs,
        shape: shape.expect("at least one input"),
        ntk: args.ntk,
    })
}

/// Arguments of `tpc gen kernel`.
#[derive(Args, Debug)]
pub struct KernelArgs {
    /// The nonlinearity φ (a built-in: relu, erf, tanh, gelu, …).
    #[arg(long)]
    nonlin: String,
    /// The number of hidden layers L.
    #[arg(long, value_parser = clap::value_parser!(u64).range(1..=1000))]
    depth: u64,
    /// The data file, one input per row (.npy, .csv or whitespace-separated text), as the
    /// program will read it: relative to the directory the program is saved in.
    #[arg(long, value_name = "FILE")]
    inputs: String,
    /// σw², the weight variance [default: 2 for relu, 1 otherwise].
    #[arg(long, value_name = "SW2", allow_hyphen_values = true)]
    weight_var: Option<f64>,
    /// σb², the bias variance (0: no biases).
    #[arg(
        long,
        value_name = "SB2",
        default_value_t = 0.0,
        allow_hyphen_values = true
    )]
    bias_var: f64,
    /// Also compute the NTK.
    #[arg(long)]
    ntk: bool,
}

/// Parses `tpc gen kernel`'s arguments into a specification.
fn kernel_spec(args: &KernelArgs) -> Result<KernelSpec, String> {
    let nonlin = Builtin::from_name(&args.nonlin)
        .ok_or_else(|| format!("unknown nonlinearity `{}`", args.nonlin))?;
    let mut spec = KernelSpec::new(nonlin, args.depth as usize, &args.inputs, args.ntk);
    if let Some(sw2) = args.weight_var {
        spec.weight_var = sw2;
    }
    spec.bias_var = args.bias_var;
    Ok(spec)
}

/// The loss functions.
#[derive(Clone, Copy, Debug, ValueEnum)]
pub enum LossArg {
    /// (f - y)²/2.
    Mse,
    /// Logistic loss, labels in [0, 1].
    Logistic,
}

/// Arguments of `tpc gen mlp`.
#[derive(Args, Debug)]
pub struct MlpArgs {
    #[command(flatten)]
    param: ParamArgs,
    /// The number of SGD steps T.
    #[arg(long, default_value_t = 1, value_parser = clap::value_parser!(u64).range(0..=1000))]
    steps: u64,
    /// The nonlinearity φ (a built-in: tanh, relu, erf, gelu, id, …).
    #[arg(long, default_value = "tanh")]
    nonlin: String,
    /// Training inputs, a JSON list of vectors; step t trains on input t mod (their number).
    #[arg(long, default_value = "[[1, 0]]")]
    inputs: String,
    /// Targets, a JSON list with one number per training input (or one number).
    #[arg(long, default_value = "[1]", allow_hyphen_values = true)]
    targets: String,
    /// Inputs evaluated but not trained on, a JSON list of vectors.
    #[arg(long, default_value = "[[0.5, -1]]")]
    eval: String,
    /// The learning rate η (the actual rate is η n^{-c}).
    #[arg(long, default_value_t = 1.0, allow_hyphen_values = true)]
    lr: f64,
    /// The loss.
    #[arg(long, value_enum, default_value_t = LossArg::Mse)]
    loss: LossArg,
    /// σ_l, comma-separated for layers 1..=L+1, or one value for all.
    #[arg(long, value_delimiter = ',', default_values_t = [1.0], allow_hyphen_values = true)]
    sigma: Vec<f64>,
}

/// Parses the arguments into a specification, or says what is wrong with them.
fn spec(args: &MlpArgs) -> Result<MlpSpec, String> {
    let (abc, label) = args.param.abc()?;
    let vectors = |flag: &str, text: &str| -> Result<Vec<Vec<f64>>, String> {
        serde_json::from_str(text).map_err(|e| {
            format!("--{flag} must be a JSON list of vectors such as [[1, 0], [0.5, -1]]: {e}")
        })
    };
    let targets: Vec<f64> = serde_json::from_str::<f64>(&args.targets)
        .map(|y| vec![y])
        .or_else(|_| serde_json::from_str(&args.targets))
        .map_err(|e| format!("--targets must be a number or a JSON list of numbers: {e}"))?;
    let nonlin = Builtin::from_name(&args.nonlin)
        .ok_or_else(|| format!("unknown nonlinearity `{}`", args.nonlin))?;
    let layers = abc.a.len();
    let sigma = match args.sigma.as_slice() {
        [s] => vec![*s; layers],
        s => s.to_vec(),
    };
    Ok(MlpSpec {
        abc,
        label,
        steps: args.steps as usize,
        nonlin,
        inputs: vectors("inputs", &args.inputs)?,
        targets,
        eval: vectors("eval", &args.eval)?,
        lr: args.lr,
        loss: match args.loss {
            LossArg::Mse => Loss::Mse,
            LossArg::Logistic => Loss::Logistic,
        },
        sigma,
    })
}

/// Runs `tpc gen`.
pub fn run(command: &GenCommand) -> Result<(), crate::Reported> {
    let program = match command {
        GenCommand::Mlp(args) => {
            let spec = spec(args).unwrap_or_else(|message| crate::usage_error(&message));
            generate_mlp(&spec)
        }
        GenCommand::Kernel(args) => {
            let spec = kernel_spec(args).unwrap_or_else(|message| crate::usage_error(&message));
            generate_kernel(&spec)
        }
        GenCommand::Cnn(args) => {
            let spec = cnn_spec(args).unwrap_or_else(|message| crate::usage_error(&message));
            generate_cnn(&spec)
        }
        GenCommand::Resnet(args) => {
            let spec = resnet_spec(args).unwrap_or_else(|message| crate::usage_error(&message));
            generate_resnet(&spec)
        }
        GenCommand::TransformerBlock(args) => {
            let spec =
                transformer_spec(args).unwrap_or_else(|message| crate::usage_error(&message));
            generate_transformer(&spec)
        }
    };
    let program = program.unwrap_or_else(|e| crate::usage_error(&e.to_string()));
    // Every training program `gen` writes must pass `tpc check` as it is: check it before
    // printing it. (A kernel program loads its inputs relative to wherever it will be saved,
    // so it is checked by its tests instead.)
    if !matches!(command, GenCommand::Kernel(_)) {
        // Checked as `tpc check` checks it: a loop over exchangeable inputs is lowered for a
        // few representatives (a CNN on 100 images is not unrolled to be checked).
        let options = tpc::ir::LowerOptions {
            parallel: true,
            ..Default::default()
        };
        if let Err(diagnostic) = tpc::compile(program.as_bytes(), &options) {
            eprintln!(
                "error: these options generate a program that tpc check refuses; \
                 ask for a smaller one (fewer steps or layers)"
            );
            return Err(crate::report(
                &diagnostic,
                "<generated program>",
                program.as_bytes(),
            ));
        }
    }
    crate::print(&program)
}
