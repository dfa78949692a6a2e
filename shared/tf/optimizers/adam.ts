// Adam over every variable at once, like PyTorch's multi-tensor ("foreach") Adam: the gradients are joined into one
// flat vector, the moment and step updates run as a dozen kernels on it, and each variable takes its slice.
// tfjs's AdamOptimizer runs about thirteen kernels per variable: on the ResNet reference net (38 variables) that was
// 500 of a training step's 1079 kernels (713 with this), 37–47 ms on the tensorflow backend against 13–28 ms.
// The update is tf.train.adam's, operation for operation, and so is the saved form (iterations, then one `<var>/m`
// moment per variable, then the `<var>/v`), so optimizer state moves between the two in either direction.
import * as tf from '@tensorflow/tfjs';

type NamedTensor = { name: string; tensor: tf.Tensor };

/** Tensors joined into one flat vector, in order. */
function flatten(tensors: tf.Tensor[]): tf.Tensor {
  return tf.concat(tensors.map((t) => tf.reshape(t, [-1])));
}

/** A flat vector cut back into tensors of `shapes`. tf.slice, not tf.split: wasm's SplitV copies its whole input
 *  once per output. Call inside tf.tidy (the slices are intermediates). */
function unflatten(flat: tf.Tensor, shapes: number[][]): tf.Tensor[] {
  let offset = 0;
  return shapes.map((shape) => {
    const size = tf.util.sizeFromShape(shape);
    const piece = tf.reshape(tf.slice(flat, [offset], [size]), shape);
    offset += size;
    return piece;
  });
}

export class MultiTensorAdam extends tf.Optimizer {
  /** The saved form is Adam's: checkpoints record this class name and restore into either implementation. */
  static get className(): string {
    return 'Adam';
  }

  /** Variable shapes, in the order of the flat vectors; fixed by the first step or by setWeights. */
  private shapes: number[][] | undefined;
  /** Names for getWeights: the variables of the last step, or those setWeights was given. */
  private names: string[] = [];
  private m: tf.Variable | undefined;
  private v: tf.Variable | undefined;
  // β₁ᵗ and β₂ᵗ as running products, under the names shared/tf/checkpoint.ts saves (as for tfjs's Adam).
  private readonly accBeta1: tf.Variable;
  private readonly accBeta2: tf.Variable;

  constructor(
    public learningRate: number,
    readonly beta1 = 0.9,
    readonly beta2 = 0.999,
    readonly epsilon = tf.backend().epsilon(),
  ) {
    super();
    this.accBeta1 = tf.variable(tf.scalar(beta1), false);
    this.accBeta2 = tf.variable(tf.scalar(beta2), false);
  }

  applyGradients(variableGradients: tf.NamedTensorMap | NamedTensor[]): void {
    const named = Array.isArray(variableGradients) ? variableGradients : Object.entries(variableGradients).map(([name, tensor]) => ({ name, tensor }));
    const variables = named.map(({ name }) => {
      const v = tf.engine().registeredVariables[name];
      if (v === undefined) throw new Error(`MultiTensorAdam: no variable named ${name}`);
      return v;
    });
    this.adopt(named.map((n) => n.name), variables.map((v) => v.shape));
    tf.tidy(() => {
      const g = flatten(named.map((n) => n.tensor));
      const m = tf.add(tf.mul(this.m!, this.beta1), tf.mul(g, 1 - this.beta1));
      const v = tf.add(tf.mul(this.v!, this.beta2), tf.mul(tf.square(g), 1 - this.beta2));
      this.m!.assign(m);
      this.v!.assign(v);
      const mHat = tf.div(m, tf.sub(1, this.accBeta1));
      const vHat = tf.div(v, tf.sub(1, this.accBeta2));
      const step = tf.mul(tf.div(mHat, tf.add(tf.sqrt(vHat), this.epsilon)), -this.learningRate);
      unflatten(step, this.shapes!).forEach((delta, i) => variables[i]!.assign(tf.add(delta, variables[i]!)));
      this.accBeta1.assign(tf.mul(this.accBeta1, this.beta1));
      this.accBeta2.assign(tf.mul(this.accBeta2, this.beta2));
    });
    this.incrementIterations();
  }

  /** The first step allocates the moments; later steps must update the same variables (by position and shape). */
  private adopt(names: string[], shapes: number[][]): void {
    if (this.shapes === undefined) {
      this.shapes = shapes;
      const total = shapes.reduce((a, s) => a + tf.util.sizeFromShape(s), 0);
      this.m = tf.variable(tf.zeros([total]), false);
      this.v = tf.variable(tf.zeros([total]), false);
    } else if (shapes.length !== this.shapes.length || shapes.some((s, i) => !tf.util.arraysEqual(s, this.shapes![i]!))) {
      const show = (ss: number[][]) => ss.map((s) => `[${s.join(',')}]`).join(' ');
      throw new Error(
        `MultiTensorAdam steps one fixed list of variables: shapes ${show(shapes)} after ${show(this.shapes)} ` +
          '(use one optimizer per model, or tf.train.adam for a changing list)',
      );
    }
    this.names = names;
  }

  /** Iterations, then each variable's first moment, then each one's second: new tensors the caller owns. */
  override async getWeights(): Promise<NamedTensor[]> {
    const split = (flat: tf.Variable | undefined, suffix: string) =>
      flat === undefined ? [] : tf.tidy(() => unflatten(flat, this.shapes!)).map((tensor, i) => ({ name: `${this.names[i]}/${suffix}`, tensor }));
    return [await this.saveIterations(), ...split(this.m, 'm'), ...split(this.v, 'v')];
  }

  override async setWeights(weightValues: NamedTensor[]): Promise<void> {
    const moments = await this.extractIterations(weightValues);
    const count = moments.length / 2;
    const [ms, vs] = [moments.slice(0, count), moments.slice(count)];
    this.m?.dispose();
    this.v?.dispose();
    this.shapes = ms.map((w) => w.tensor.shape);
    this.names = ms.map((w) => w.name.replace(/\/m$/, ''));
    const flat = (ws: NamedTensor[]) => tf.tidy(() => tf.variable(flatten(ws.map((w) => w.tensor)), false));
    this.m = flat(ms);
    this.v = flat(vs);
    tf.tidy(() => {
      this.accBeta1.assign(tf.pow(this.beta1, this.iterations + 1));
      this.accBeta2.assign(tf.pow(this.beta2, this.iterations + 1));
    });
  }

  override dispose(): void {
    tf.dispose([this.accBeta1, this.accBeta2, ...(this.m ? [this.m, this.v!] : [])]);
  }

  getConfig(): tf.serialization.ConfigDict {
    return { learningRate: this.learningRate, beta1: this.beta1, beta2: this.beta2, epsilon: this.epsilon };
  }
}

export function multiTensorAdam(learningRate: number, beta1 = 0.9, beta2 = 0.999, epsilon?: number): MultiTensorAdam {
  return new MultiTensorAdam(learningRate, beta1, beta2, epsilon);
}
