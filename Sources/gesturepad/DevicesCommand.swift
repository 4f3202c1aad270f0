// `gesturepad devices`: list the video capture devices (card, driver, bus, stable /dev/v4l names,
// formats, sizes, frame rates). Wiring only: the listing is `V4L2DeviceList` in Capture.
import ArgumentParser
import Capture

struct DevicesCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "devices",
        abstract: "List video capture devices with their stable names, formats, sizes and frame rates.",
        discussion: """
            Use a /dev/v4l/by-id name in the configuration: it keeps pointing at the same camera when \
            it is plugged into another port or the /dev/video numbers change.
            """)

    func run() throws {
        let devices = V4L2DeviceList.scan()
        guard !devices.isEmpty else { throw CaptureError.noCaptureDevices(searched: V4L2DeviceList.searchPattern) }
        print(V4L2DeviceList.report(devices))
    }
}
