// SampleBrowser: the state of the training screen's sample browser — every sample of one label as a
// paged grid (oldest first, as recorded), a cursor, marked samples, and what a key or a click there
// means (move, page, mark, delete, relabel, switch label, close). Pure: the ids come in from the
// session (which reads the sample store), changes go out as `BrowserAction`s the session applies to
// the store in one transaction each, then hands the browser the new ids (`reload`).

/// What the browser asks the session to do.
public enum BrowserAction: Equatable, Sendable {
    /// Load the ids of `label` (another label was chosen) and pass them to `reload`.
    case show(label: String)
    /// Delete these samples (one transaction).
    case delete([Int64])
    /// Move these samples to `label` (one transaction).
    case relabel([Int64], to: String)
    /// Close the browser.
    case close
}

/// The sample browser's state.
public struct SampleBrowser: Equatable, Sendable {
    /// Grid columns and rows of one page.
    public static let columns = 6
    public static let rows = 4
    /// Samples per page.
    public static var pageSize: Int { columns * rows }

    /// The labels one can browse and relabel to, in tile order (digit n relabels to the n-th).
    public let labels: [String]
    /// The label shown.
    public private(set) var label: String
    /// The label's sample ids, oldest first.
    public private(set) var ids: [Int64]
    /// Index into `ids` of the sample under the cursor (0 when there are none).
    public private(set) var cursor = 0
    /// Samples marked for a bulk delete or relabel.
    public private(set) var marked: Set<Int64> = []

    /// A browser on `label` (one of `labels`) holding `ids`; the cursor starts on the newest sample.
    public init(labels: [String], label: String, ids: [Int64]) {
        self.labels = labels
        self.label = label
        self.ids = ids
        cursor = max(0, ids.count - 1)
    }

    /// The page the cursor is on (0-based).
    public var page: Int { cursor / Self.pageSize }
    /// Pages of the label (at least 1).
    public var pageCount: Int { max(1, (ids.count + Self.pageSize - 1) / Self.pageSize) }
    /// The ids on the cursor's page, in grid order.
    public var pageIDs: ArraySlice<Int64> {
        let start = page * Self.pageSize
        return ids[min(start, ids.count)..<min(start + Self.pageSize, ids.count)]
    }
    /// The sample under the cursor.
    public var cursorID: Int64? { ids.isEmpty ? nil : ids[cursor] }
    /// What a delete or relabel applies to: the marked samples (oldest first), else the one under the cursor.
    public var targets: [Int64] {
        if !marked.isEmpty { return ids.filter { marked.contains($0) } }
        return cursorID.map { [$0] } ?? []
    }

    // MARK: Changes

    /// Takes the label's ids after a change or a label switch: the cursor stays on its sample when it is still
    /// there, else on the sample that took its place (clamped); marks of samples that left are dropped.
    public mutating func reload(label: String, ids: [Int64]) {
        let sameLabel = label == self.label
        let previous = cursorID
        let previousIndex = cursor
        self.label = label
        self.ids = ids
        marked = sameLabel ? marked.intersection(ids) : []
        if sameLabel, let previous, let index = ids.firstIndex(of: previous) {
            cursor = index
        } else if sameLabel {
            cursor = min(previousIndex, max(0, ids.count - 1))
        } else {
            cursor = max(0, ids.count - 1)
        }
    }

    /// Moves the cursor `steps` samples (clamped to the ends; pages follow).
    public mutating func move(by steps: Int) {
        guard !ids.isEmpty else { return }
        cursor = min(max(cursor + steps, 0), ids.count - 1)
    }

    /// Moves the cursor a whole page (same grid slot where the page has it).
    public mutating func movePage(by pages: Int) { move(by: pages * Self.pageSize) }

    /// Marks or unmarks the sample under the cursor.
    public mutating func toggleMark() {
        guard let id = cursorID else { return }
        if marked.remove(id) == nil { marked.insert(id) }
    }

    /// A click on grid `slot` (0-based, row-major) of the page: the cursor goes there; a click on the cursor's own
    /// sample marks or unmarks it. False when the slot holds no sample.
    @discardableResult
    public mutating func click(slot: Int) -> Bool {
        let index = page * Self.pageSize + slot
        guard slot >= 0, slot < Self.pageSize, index < ids.count else { return false }
        if index == cursor { toggleMark() } else { cursor = index }
        return true
    }

    // MARK: Keys

    /// What `key` does here: arrows move (up/down a row), PageUp/PageDown or B/N turn pages, Space or M marks,
    /// Backspace/Delete deletes, digit n relabels to the n-th label, Tab switches label, Esc or V closes. Returns
    /// the action for the session, if any.
    public mutating func keyDown(_ key: AppKey, shift: Bool = false) -> BrowserAction? {
        switch key {
        case .arrowLeft: move(by: -1)
        case .arrowRight: move(by: 1)
        case .arrowUp: move(by: -Self.columns)
        case .arrowDown: move(by: Self.columns)
        case .pageUp, .letter("b"): movePage(by: -1)
        case .pageDown, .letter("n"): movePage(by: 1)
        case .space, .letter("m"): toggleMark()
        case .backspace:
            let targets = targets
            return targets.isEmpty ? nil : .delete(targets)
        case .digit(let number):
            guard number >= 1, number <= labels.count, labels[number - 1] != label else { return nil }
            let targets = targets
            return targets.isEmpty ? nil : .relabel(targets, to: labels[number - 1])
        case .tab:
            guard let index = labels.firstIndex(of: label), labels.count > 1 else { return nil }
            return .show(label: labels[(index + (shift ? labels.count - 1 : 1)) % labels.count])
        case .escape, .letter("v"): return .close
        default: break
        }
        return nil
    }
}
