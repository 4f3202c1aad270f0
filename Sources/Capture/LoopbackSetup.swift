// LoopbackSetup: the two files that make the v4l2loopback device gesturepad shares the camera
// through (`gesturepad share setup`): the module's options in /etc/modprobe.d and its name in
// /etc/modules-load.d (so systemd-modules-load loads it at boot). exclusive_caps=1 because Chrome
// and Chromium list a loopback only when it offers capture alone (it then does so once a writer —
// the daemon — has written a frame); card_label is what video-call apps show; devices=1 video_nr=N
// puts it at /dev/videoN, away from real cameras' low numbers. Pure text, no file access.

/// The v4l2loopback set-up gesturepad's share uses.
public struct LoopbackSetup: Sendable, Equatable {
    /// The /dev/videoN number of the loopback device.
    public var videoNumber: Int
    /// The name video-call apps show.
    public var cardLabel: String

    /// Where the module options go.
    public static let modprobePath = "/etc/modprobe.d/gesturepad-share.conf"
    /// Where the module is named for loading at boot.
    public static let modulesLoadPath = "/etc/modules-load.d/gesturepad-share.conf"
    /// The card label the issue and the README use.
    public static let defaultCardLabel = "gesturepad camera"
    /// /dev/video numbers v4l2loopback accepts for video_nr (its MAX_DEVICES bound is far higher; 255 keeps it sane).
    public static let videoNumberRange = 0...255

    public init(videoNumber: Int = 10, cardLabel: String = defaultCardLabel) {
        self.videoNumber = videoNumber
        self.cardLabel = cardLabel
    }

    /// The device node the set-up creates.
    public var devicePath: String { "/dev/video\(videoNumber)" }

    /// Problems with the values, one sentence each (empty when fine).
    public var problems: [String] {
        var problems: [String] = []
        if !Self.videoNumberRange.contains(videoNumber) {
            problems.append("video number \(videoNumber) is outside \(Self.videoNumberRange)")
        }
        if cardLabel.isEmpty || cardLabel.utf8.count > 31
            || cardLabel.contains(where: { $0 == "\"" || $0 == "\n" || $0 == "\\" || $0 == "," })
        {
            problems.append(
                "card label \"\(cardLabel)\" must be 1–31 bytes without quotes, commas, backslashes or newlines")
        }
        return problems
    }

    /// /etc/modprobe.d/gesturepad-share.conf.
    public var modprobeConfiguration: String {
        """
        # Written by `gesturepad share setup`: one v4l2loopback device for the camera gesturepad shares
        # ([camera] share = "v4l2loopback", share_device = "\(devicePath)"). exclusive_caps=1 lets
        # Chrome/Chromium list it (it offers capture once the gesturepad daemon writes frames).
        options v4l2loopback devices=1 video_nr=\(videoNumber) card_label="\(cardLabel)" exclusive_caps=1

        """
    }

    /// /etc/modules-load.d/gesturepad-share.conf.
    public var modulesLoadConfiguration: String {
        """
        # Written by `gesturepad share setup`: load v4l2loopback at boot (options in \(Self.modprobePath)).
        v4l2loopback

        """
    }
}
