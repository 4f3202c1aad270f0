// HeapPolicy: glibc malloc settings for the long-running daemon (issue 15 item 12: RSS 116 MB at start,
// high-water 429 MB and still rising after 5 minutes of clients recording, training and reloading;
// bench/soak.py). The cause: glibc raises its mmap threshold (128 KiB at start) to the size of every
// mapped block that is freed, up to 32 MiB. The first training frees 20 MB blocks (a v1 1.0 head's kernel,
// its packed copy, Adam's moments), so from then on every block below that size — 200 KB embeddings, the
// N×D feature matrix, batch buffers — came from the malloc arenas of the thread that asked (the trainer's,
// the pipeline's, the main heap), and memory freed inside an arena stays resident: three 64 MB thread
// arenas and a 58 MB main heap held ~240 MB between trainings. With the threshold fixed, blocks of 128 KiB
// or more get a mapping of their own and go back to the kernel when freed, so RSS returns to the model +
// head between trainings. The recognition path allocates nothing per frame (the heap-counter tests), so the
// fixed threshold costs no system calls there; a training run maps and unmaps its large buffers once.
import CHeapStats

/// The daemon's heap settings (see the file header).
public enum HeapPolicy {
    /// Blocks of at least this many bytes get a mapping of their own (glibc's own starting value).
    public static let mmapThresholdBytes = 128 * 1024

    /// Fixes glibc's mmap threshold at `mmapThresholdBytes` for the whole process. Call once at start,
    /// before the model loads. Returns false when glibc refused the setting.
    @discardableResult
    public static func applyForLongRunningProcess() -> Bool {
        gp_heap_fix_mmap_threshold(mmapThresholdBytes) == 1
    }
}
