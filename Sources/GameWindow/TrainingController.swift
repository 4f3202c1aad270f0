// TrainingController: one background training run at a time through the workspace's trainer, its
// progress kept for the screens (embedding count, per-epoch loss), and the finished head swapped
// into the live recognizer — capture, recognition and play go on meanwhile. The trainer's
// callbacks arrive on its queue; the progress sits behind a mutex the render thread reads.
import Gestures
import NeuralNet
import Synchronization

/// Runs head training in the background and tracks its progress.
final class TrainingController: Sendable {
    private let trainer: GestureTrainer
    private let recognizer: Recognizer?
    private let labels: LabelSet
    private let state = Mutex<TrainingProgress>(.idle)

    /// A controller training `labels` with `trainer`; finished heads go into `recognizer`.
    init(trainer: GestureTrainer, recognizer: Recognizer?, labels: LabelSet) {
        self.trainer = trainer
        self.recognizer = recognizer
        self.labels = labels
    }

    /// The current progress.
    var progress: TrainingProgress { state.withLock { $0 } }

    /// Starts a run; throws `.trainingInProgress` when one is going.
    func start(options: TrainingOptions) throws(GesturesError) {
        state.withLock { $0 = .embedding(done: 0, total: 0) }
        let request = TrainingRequest(labels: labels, options: options)
        let recognizer = self.recognizer
        do throws(GesturesError) {
            try trainer.start(request) { [self] event in
                state.withLock { progress in
                    switch event {
                    case .embedding(let done, let total):
                        progress = .embedding(done: done, total: total)
                    case .epoch(let report):
                        let losses = progress.losses + [report.loss]
                        progress = .training(
                            epoch: report.epoch, epochs: report.epochs, losses: losses, accuracy: report.accuracy)
                    case .fold:
                        break
                    }
                }
            } completion: { [self] result in
                switch result {
                case .success(let trained):
                    var failure: String?
                    if let recognizer {
                        do throws(GesturesError) { try recognizer.swapHead(trained.active) } catch {
                            failure = error.description
                        }
                    }
                    state.withLock { progress in
                        if let failure {
                            progress = .failed(reason: failure, losses: progress.losses)
                        } else {
                            progress = .finished(
                                version: trained.metadata.version, losses: progress.losses,
                                accuracy: trained.summary.finalAccuracy ?? 0, milliseconds: trained.summary.milliseconds
                            )
                        }
                    }
                case .failure(let error):
                    state.withLock { progress in
                        progress = .failed(reason: Self.shortReason(error), losses: progress.losses)
                    }
                }
            }
        } catch {
            state.withLock { $0 = .idle }
            throw error
        }
    }

    /// Asks a running training to stop (the head in use stays).
    func cancel() { trainer.cancel() }

    /// Whether a run is in progress.
    var isRunning: Bool { trainer.isRunning }

    /// The error in words fit for the small training panel.
    static func shortReason(_ error: GesturesError) -> String {
        switch error {
        case .notEnoughSamples(let counts, _):
            let listed = counts.filter { $0.value > 0 }.sorted { $0.key < $1.key }.map { "\($0.key) \($0.value)" }
            return
                "Record samples of at least two labels first (now: \(listed.isEmpty ? "none" : listed.joined(separator: ", ")))."
        case .trainingCancelled:
            return "Training cancelled; the head in use is unchanged."
        default:
            return error.description
        }
    }
}
