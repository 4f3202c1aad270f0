// EvaluationPicture: the evaluation report as pictures — the confusion matrix (Raster's
// ConfusionMatrixPicture) and a training curve (LinePlot) — encoded as PNG (stb via Capture) and
// written atomically (SystemSupport's AtomicFile). It lives in the command line, which draws; the
// Gestures library stays recognition and training only and does not link Raster.
import Capture
import Gestures
import Raster
import SystemSupport

/// PNG pictures of evaluation and training results.
enum EvaluationPicture {
    /// The confusion matrix of `report` as PNG bytes.
    static func confusionPNG(_ report: EvaluationReport) -> [UInt8] {
        let title = "\(report.folds)-fold, \(report.matrix.total) samples"
        let canvas = ConfusionMatrixPicture.render(labels: report.labels, counts: report.matrix.counts, title: title)
        return RGBImage(width: canvas.width, height: canvas.height, pixels: canvas.pixels).pngData()
    }

    /// Writes the confusion matrix PNG to `path` (temp file + fsync + rename).
    static func writeConfusionPNG(_ report: EvaluationReport, to path: String) throws(AtomicFileError) {
        try AtomicFile.write(confusionPNG(report), to: path)
    }

    /// Loss and accuracy per epoch as PNG bytes.
    static func trainingCurvePNG(losses: [Float], accuracies: [Float], width: Int = 480, height: Int = 300)
        -> [UInt8]
    {
        let canvas = LinePlot.render(
            series: [
                LinePlot.Series(name: "loss", values: losses, color: .red),
                LinePlot.Series(name: "accuracy", values: accuracies, color: .blue),
            ],
            size: Size(width: width, height: height), title: "training", xLabel: "epoch", yLabel: "")
        return RGBImage(width: canvas.width, height: canvas.height, pixels: canvas.pixels).pngData()
    }
}
