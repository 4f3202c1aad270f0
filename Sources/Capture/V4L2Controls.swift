// Camera controls through QUERYCTRL/G_CTRL/S_CTRL: exposure mode, exposure time and the "exposure,
// dynamic framerate" switch (V4L2_CID_EXPOSURE_AUTO_PRIORITY) that lets UVC cameras halve their frame
// rate in dim light. UVC quirk: most cameras accept only MANUAL (1) and APERTURE_PRIORITY (3) for
// V4L2_CID_EXPOSURE_AUTO — plain AUTO (0) fails with EINVAL — so "automatic" tries 3, then 0.
internal import CV4L2

/// Control access on an open device.
struct V4L2Controls {
    let device: V4L2Device

    /// The control's description, or nil when the device has none (or it is disabled).
    /// The corresponding ioctl is `VIDIOC_QUERYCTRL`.
    func query(_ id: UInt32) throws(CaptureError) -> v4l2_queryctrl? {
        var control = v4l2_queryctrl()
        control.id = id
        switch device.attempt(.queryControl, &control) {
        case .success:
            return control.flags & CV4L2_CTRL_FLAG_DISABLED != 0 || control.minimum > control.maximum ? nil : control
        case .failure(let errorNumber) where errorNumber.rawValue == EINVAL || errorNumber.rawValue == ENOTTY:
            return nil
        case .failure(let errorNumber):
            throw captureError(device: device.path, call: V4L2Request.queryControl.name, errorNumber)
        }
    }

    /// Sets a control. The corresponding ioctl is `VIDIOC_S_CTRL`.
    func set(_ id: UInt32, _ value: Int32) throws(CaptureError) {
        var control = v4l2_control(id: id, value: value)
        try device.call(.setControl, &control)
    }

    /// Reads a control. The corresponding ioctl is `VIDIOC_G_CTRL`.
    func get(_ id: UInt32) throws(CaptureError) -> Int32 {
        var control = v4l2_control(id: id, value: 0)
        try device.call(.getControl, &control)
        return control.value
    }

    /// Applies an exposure setting.
    func setExposure(_ exposure: V4L2Exposure) throws(CaptureError) {
        switch exposure {
        case .unchanged:
            return
        case .automatic(let allowFrameRateDrop):
            guard let mode = try query(CV4L2_CID_EXPOSURE_AUTO) else {
                throw .controlUnsupported(device: device.path, control: "automatic exposure (V4L2_CID_EXPOSURE_AUTO)")
            }
            let candidates = [CV4L2_EXPOSURE_APERTURE_PRIORITY, CV4L2_EXPOSURE_AUTO]
                .filter { (mode.minimum...mode.maximum).contains($0) }
            var lastError = CaptureError.controlUnsupported(
                device: device.path, control: "automatic exposure (V4L2_CID_EXPOSURE_AUTO)")
            var applied = false
            for value in candidates where !applied {
                do throws(CaptureError) {
                    try set(CV4L2_CID_EXPOSURE_AUTO, value)
                    applied = true
                } catch {
                    guard case .systemCallFailed(_, _, let errorNumber) = error, errorNumber == .invalidArgument else {
                        throw error
                    }
                    lastError = error
                }
            }
            guard applied else { throw lastError }
            if let priority = try query(CV4L2_CID_EXPOSURE_AUTO_PRIORITY),
                priority.flags & CV4L2_CTRL_FLAG_READ_ONLY == 0
            {
                try set(CV4L2_CID_EXPOSURE_AUTO_PRIORITY, allowFrameRateDrop ? 1 : 0)
            }
        case .manual(let hundredMicroseconds):
            if let mode = try query(CV4L2_CID_EXPOSURE_AUTO),
                (mode.minimum...mode.maximum).contains(CV4L2_EXPOSURE_MANUAL)
            {
                try set(CV4L2_CID_EXPOSURE_AUTO, CV4L2_EXPOSURE_MANUAL)
            }
            guard let time = try query(CV4L2_CID_EXPOSURE_ABSOLUTE) else {
                throw .controlUnsupported(device: device.path, control: "exposure time (V4L2_CID_EXPOSURE_ABSOLUTE)")
            }
            try set(CV4L2_CID_EXPOSURE_ABSOLUTE, Self.clamp(hundredMicroseconds, to: time))
        }
    }

    /// The exposure settings the camera reports (nil for controls it does not have).
    func exposureState() throws(CaptureError) -> V4L2ExposureState {
        var state = V4L2ExposureState()
        if try query(CV4L2_CID_EXPOSURE_AUTO) != nil {
            state.automatic = try get(CV4L2_CID_EXPOSURE_AUTO) != CV4L2_EXPOSURE_MANUAL
        }
        if try query(CV4L2_CID_EXPOSURE_ABSOLUTE) != nil {
            state.hundredMicroseconds = Int(try get(CV4L2_CID_EXPOSURE_ABSOLUTE))
        }
        if try query(CV4L2_CID_EXPOSURE_AUTO_PRIORITY) != nil {
            state.frameRateMayDrop = try get(CV4L2_CID_EXPOSURE_AUTO_PRIORITY) != 0
        }
        return state
    }

    /// `value` clamped to the control's range and rounded down to its step.
    static func clamp(_ value: Int, to control: v4l2_queryctrl) -> Int32 {
        let minimum = Int(control.minimum)
        let maximum = Int(control.maximum)
        let step = max(1, Int(control.step))
        let clamped = min(max(value, minimum), maximum)
        return Int32(minimum + (clamped - minimum) / step * step)
    }
}
