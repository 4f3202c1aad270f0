// CV4L2: the V4L2 kernel interface (<linux/videodev2.h>) and libv4l (libv4l2 device access with
// format emulation, libv4lconvert conversions), imported only by Capture. Swift cannot import
// function-like macros or call C variadic functions, so the ioctl requests and the constants we use
// are exported as `CV4L2_`-prefixed `static const` values, and libv4l2's variadic calls get fixed-
// arity wrappers that also capture errno right after the call (swift-nio CNIOLinux style).
// A "synthetic device" (CV4L2_synthetic_*) lets libv4lconvert convert frames without a camera.
#pragma once

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdint.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>
#include <sys/time.h>
#include <linux/types.h>
#include <linux/videodev2.h>
#include <libv4l2.h>
#include <libv4lconvert.h>
#include <libv4l-plugin.h>

// MARK: - ioctl requests

static const unsigned long CV4L2_VIDIOC_QUERYCAP = VIDIOC_QUERYCAP;
static const unsigned long CV4L2_VIDIOC_ENUM_FMT = VIDIOC_ENUM_FMT;
static const unsigned long CV4L2_VIDIOC_ENUM_FRAMESIZES = VIDIOC_ENUM_FRAMESIZES;
static const unsigned long CV4L2_VIDIOC_ENUM_FRAMEINTERVALS = VIDIOC_ENUM_FRAMEINTERVALS;
static const unsigned long CV4L2_VIDIOC_G_FMT = VIDIOC_G_FMT;
static const unsigned long CV4L2_VIDIOC_S_FMT = VIDIOC_S_FMT;
static const unsigned long CV4L2_VIDIOC_G_PARM = VIDIOC_G_PARM;
static const unsigned long CV4L2_VIDIOC_S_PARM = VIDIOC_S_PARM;
static const unsigned long CV4L2_VIDIOC_REQBUFS = VIDIOC_REQBUFS;
static const unsigned long CV4L2_VIDIOC_QUERYBUF = VIDIOC_QUERYBUF;
static const unsigned long CV4L2_VIDIOC_QBUF = VIDIOC_QBUF;
static const unsigned long CV4L2_VIDIOC_DQBUF = VIDIOC_DQBUF;
static const unsigned long CV4L2_VIDIOC_STREAMON = VIDIOC_STREAMON;
static const unsigned long CV4L2_VIDIOC_STREAMOFF = VIDIOC_STREAMOFF;
static const unsigned long CV4L2_VIDIOC_G_CTRL = VIDIOC_G_CTRL;
static const unsigned long CV4L2_VIDIOC_S_CTRL = VIDIOC_S_CTRL;
static const unsigned long CV4L2_VIDIOC_QUERYCTRL = VIDIOC_QUERYCTRL;

// MARK: - Capabilities (struct v4l2_capability.capabilities / device_caps)

static const uint32_t CV4L2_CAP_VIDEO_CAPTURE = V4L2_CAP_VIDEO_CAPTURE;
static const uint32_t CV4L2_CAP_VIDEO_CAPTURE_MPLANE = V4L2_CAP_VIDEO_CAPTURE_MPLANE;
static const uint32_t CV4L2_CAP_META_CAPTURE = V4L2_CAP_META_CAPTURE;
static const uint32_t CV4L2_CAP_VIDEO_OUTPUT = V4L2_CAP_VIDEO_OUTPUT;
static const uint32_t CV4L2_CAP_READWRITE = V4L2_CAP_READWRITE;
static const uint32_t CV4L2_CAP_STREAMING = V4L2_CAP_STREAMING;
static const uint32_t CV4L2_CAP_DEVICE_CAPS = V4L2_CAP_DEVICE_CAPS;

// MARK: - Buffers, formats, frame sizes and intervals

static const uint32_t CV4L2_BUF_TYPE_VIDEO_CAPTURE = V4L2_BUF_TYPE_VIDEO_CAPTURE;
static const uint32_t CV4L2_BUF_TYPE_VIDEO_OUTPUT = V4L2_BUF_TYPE_VIDEO_OUTPUT;
static const uint32_t CV4L2_COLORSPACE_SRGB = V4L2_COLORSPACE_SRGB;
static const uint32_t CV4L2_COLORSPACE_JPEG = V4L2_COLORSPACE_JPEG;
static const uint32_t CV4L2_MEMORY_MMAP = V4L2_MEMORY_MMAP;
static const uint32_t CV4L2_FIELD_ANY = V4L2_FIELD_ANY;
static const uint32_t CV4L2_FIELD_NONE = V4L2_FIELD_NONE;
static const uint32_t CV4L2_BUF_FLAG_MAPPED = V4L2_BUF_FLAG_MAPPED;
static const uint32_t CV4L2_BUF_FLAG_QUEUED = V4L2_BUF_FLAG_QUEUED;
static const uint32_t CV4L2_BUF_FLAG_DONE = V4L2_BUF_FLAG_DONE;
static const uint32_t CV4L2_BUF_FLAG_ERROR = V4L2_BUF_FLAG_ERROR;
static const uint32_t CV4L2_BUF_FLAG_TIMESTAMP_MASK = V4L2_BUF_FLAG_TIMESTAMP_MASK;
static const uint32_t CV4L2_BUF_FLAG_TIMESTAMP_MONOTONIC = V4L2_BUF_FLAG_TIMESTAMP_MONOTONIC;
static const uint32_t CV4L2_FMT_FLAG_COMPRESSED = V4L2_FMT_FLAG_COMPRESSED;
static const uint32_t CV4L2_FMT_FLAG_EMULATED = V4L2_FMT_FLAG_EMULATED;
static const uint32_t CV4L2_FRMSIZE_TYPE_DISCRETE = V4L2_FRMSIZE_TYPE_DISCRETE;
static const uint32_t CV4L2_FRMSIZE_TYPE_CONTINUOUS = V4L2_FRMSIZE_TYPE_CONTINUOUS;
static const uint32_t CV4L2_FRMSIZE_TYPE_STEPWISE = V4L2_FRMSIZE_TYPE_STEPWISE;
static const uint32_t CV4L2_FRMIVAL_TYPE_DISCRETE = V4L2_FRMIVAL_TYPE_DISCRETE;
static const uint32_t CV4L2_FRMIVAL_TYPE_CONTINUOUS = V4L2_FRMIVAL_TYPE_CONTINUOUS;
static const uint32_t CV4L2_FRMIVAL_TYPE_STEPWISE = V4L2_FRMIVAL_TYPE_STEPWISE;
static const uint32_t CV4L2_CAP_TIMEPERFRAME = V4L2_CAP_TIMEPERFRAME;
/// The largest buffer count a driver hands out (VIDEO_MAX_FRAME).
static const uint32_t CV4L2_VIDEO_MAX_FRAME = VIDEO_MAX_FRAME;

// MARK: - Pixel formats (fourcc)

static const uint32_t CV4L2_PIX_FMT_YUYV = V4L2_PIX_FMT_YUYV;
static const uint32_t CV4L2_PIX_FMT_MJPEG = V4L2_PIX_FMT_MJPEG;
static const uint32_t CV4L2_PIX_FMT_JPEG = V4L2_PIX_FMT_JPEG;
static const uint32_t CV4L2_PIX_FMT_RGB24 = V4L2_PIX_FMT_RGB24;
static const uint32_t CV4L2_PIX_FMT_BGR24 = V4L2_PIX_FMT_BGR24;
static const uint32_t CV4L2_PIX_FMT_YUV420 = V4L2_PIX_FMT_YUV420;
static const uint32_t CV4L2_PIX_FMT_YVU420 = V4L2_PIX_FMT_YVU420;
static const uint32_t CV4L2_PIX_FMT_H264 = V4L2_PIX_FMT_H264;

// MARK: - Controls

static const uint32_t CV4L2_CID_EXPOSURE_AUTO = V4L2_CID_EXPOSURE_AUTO;
static const uint32_t CV4L2_CID_EXPOSURE_ABSOLUTE = V4L2_CID_EXPOSURE_ABSOLUTE;
static const uint32_t CV4L2_CID_EXPOSURE_AUTO_PRIORITY = V4L2_CID_EXPOSURE_AUTO_PRIORITY;
static const int32_t CV4L2_EXPOSURE_AUTO = V4L2_EXPOSURE_AUTO;
static const int32_t CV4L2_EXPOSURE_MANUAL = V4L2_EXPOSURE_MANUAL;
static const int32_t CV4L2_EXPOSURE_SHUTTER_PRIORITY = V4L2_EXPOSURE_SHUTTER_PRIORITY;
static const int32_t CV4L2_EXPOSURE_APERTURE_PRIORITY = V4L2_EXPOSURE_APERTURE_PRIORITY;
static const uint32_t CV4L2_CTRL_FLAG_DISABLED = V4L2_CTRL_FLAG_DISABLED;
static const uint32_t CV4L2_CTRL_FLAG_INACTIVE = V4L2_CTRL_FLAG_INACTIVE;
static const uint32_t CV4L2_CTRL_FLAG_READ_ONLY = V4L2_CTRL_FLAG_READ_ONLY;

// MARK: - open(2), mmap(2), poll(2) constants used with libv4l2

static const int CV4L2_O_RDWR_NONBLOCK_CLOEXEC = O_RDWR | O_NONBLOCK | O_CLOEXEC;
static const int CV4L2_PROT_READ_WRITE = PROT_READ | PROT_WRITE;
static const int CV4L2_MAP_SHARED = MAP_SHARED;
static const short CV4L2_POLLIN = POLLIN;
static const short CV4L2_POLLERR = POLLERR;
static const short CV4L2_POLLHUP = POLLHUP;
static const short CV4L2_POLLNVAL = POLLNVAL;

// MARK: - libv4l2 calls with errno captured immediately
// Each returns what the libv4l2 call returns and stores errno in *error_number (0 on success).

/// v4l2_open(path, flags): libv4l2 wraps the descriptor so emulated formats (RGB24, …) work.
static inline int CV4L2_open(const char *path, int flags, int *error_number) {
    errno = 0;
    int result = v4l2_open(path, flags, 0);
    *error_number = result < 0 ? errno : 0;
    return result;
}

/// v4l2_close(descriptor).
static inline int CV4L2_close(int descriptor, int *error_number) {
    errno = 0;
    int result = v4l2_close(descriptor);
    *error_number = result < 0 ? errno : 0;
    return result;
}

/// v4l2_ioctl(descriptor, request, argument): argument must point at the request's struct.
static inline int CV4L2_ioctl(int descriptor, unsigned long request, void *argument, int *error_number) {
    errno = 0;
    int result = v4l2_ioctl(descriptor, request, argument);
    *error_number = result < 0 ? errno : 0;
    return result;
}

/// v4l2_mmap(NULL, length, read|write, shared, descriptor, offset); NULL on failure (never MAP_FAILED).
static inline void *CV4L2_mmap(size_t length, int descriptor, int64_t offset, int *error_number) {
    errno = 0;
    void *result = v4l2_mmap(NULL, length, PROT_READ | PROT_WRITE, MAP_SHARED, descriptor, offset);
    *error_number = result == MAP_FAILED ? errno : 0;
    return result == MAP_FAILED ? NULL : result;
}

/// v4l2_munmap(address, length).
static inline int CV4L2_munmap(void *address, size_t length, int *error_number) {
    errno = 0;
    int result = v4l2_munmap(address, length);
    *error_number = result < 0 ? errno : 0;
    return result;
}

/// poll(2) on one descriptor for `events`; returns poll's result, the returned events in *revents.
static inline int CV4L2_poll(int descriptor, short events, int timeout_milliseconds, short *revents, int *error_number) {
    struct pollfd entry = { .fd = descriptor, .events = events, .revents = 0 };
    errno = 0;
    int result = poll(&entry, 1, timeout_milliseconds);
    *error_number = result < 0 ? errno : 0;
    *revents = entry.revents;
    return result;
}

// MARK: - Plain system calls for the output side (v4l2loopback)
// libv4l2 wraps only capture devices; a writer wants the raw node, so these are open(2), write(2) and stat(2).
// v4l2_ioctl and v4l2_close pass descriptors libv4l2 did not open straight to the kernel.

/// open(path, O_RDWR | O_NONBLOCK | O_CLOEXEC) without libv4l2.
static inline int CV4L2_open_plain(const char *path, int *error_number) {
    errno = 0;
    int result = open(path, O_RDWR | O_NONBLOCK | O_CLOEXEC);
    *error_number = result < 0 ? errno : 0;
    return result;
}

/// write(descriptor, bytes, length): the bytes written, or -1 with *error_number set.
static inline ssize_t CV4L2_write(int descriptor, const void *bytes, size_t length, int *error_number) {
    errno = 0;
    ssize_t result = write(descriptor, bytes, length);
    *error_number = result < 0 ? errno : 0;
    return result;
}

/// stat(path) (symbolic links followed): whether it is a character device, its owner, mode bits and device numbers.
static inline int CV4L2_node_status(const char *path, int *is_character_device, uint32_t *owner, uint32_t *mode,
                                    uint32_t *major_number, uint32_t *minor_number, int *error_number) {
    struct stat status;
    errno = 0;
    int result = stat(path, &status);
    *error_number = result < 0 ? errno : 0;
    if (result == 0) {
        *is_character_device = S_ISCHR(status.st_mode) ? 1 : 0;
        *owner = status.st_uid;
        *mode = status.st_mode & 07777;
        *major_number = major(status.st_rdev);
        *minor_number = minor(status.st_rdev);
    }
    return result;
}

// MARK: - Synthetic device for libv4lconvert
// libv4lconvert learns its source formats by asking a device (ENUM_FMT, ENUM_FRAMESIZES,
// QUERYCAP). To convert buffers without a camera (tests, benchmarks, converting ourselves), these
// device operations answer for one imaginary device offering one format at one size; every other
// request fails with ENOTTY, so no controls, no flipping and no software processing get enabled.

/// What the synthetic device offers: one fourcc at one size.
typedef struct CV4L2_synthetic_device {
    uint32_t pixel_format;
    uint32_t width;
    uint32_t height;
} CV4L2_synthetic_device;

static inline void *CV4L2_synthetic_init(int descriptor) { (void)descriptor; return NULL; }
static inline void CV4L2_synthetic_close(void *device) { (void)device; }

static inline int CV4L2_synthetic_ioctl(void *device_pointer, int descriptor, unsigned long request, void *argument) {
    (void)descriptor;
    const CV4L2_synthetic_device *device = (const CV4L2_synthetic_device *)device_pointer;
    if (device != NULL && argument != NULL) {
        if (request == VIDIOC_ENUM_FMT) {
            struct v4l2_fmtdesc *description = (struct v4l2_fmtdesc *)argument;
            if (description->index == 0 && description->type == V4L2_BUF_TYPE_VIDEO_CAPTURE) {
                description->flags = (device->pixel_format == V4L2_PIX_FMT_MJPEG) ? V4L2_FMT_FLAG_COMPRESSED : 0;
                description->pixelformat = device->pixel_format;
                memcpy(description->description, "synthetic", 10);
                return 0;
            }
        } else if (request == VIDIOC_ENUM_FRAMESIZES) {
            struct v4l2_frmsizeenum *size = (struct v4l2_frmsizeenum *)argument;
            if (size->index == 0 && size->pixel_format == device->pixel_format) {
                size->type = V4L2_FRMSIZE_TYPE_DISCRETE;
                size->discrete.width = device->width;
                size->discrete.height = device->height;
                return 0;
            }
        } else if (request == VIDIOC_QUERYCAP) {
            struct v4l2_capability *capability = (struct v4l2_capability *)argument;
            memset(capability, 0, sizeof(*capability));
            memcpy(capability->driver, "gesturepad", 11);
            memcpy(capability->card, "synthetic", 10);
            capability->capabilities = V4L2_CAP_VIDEO_CAPTURE | V4L2_CAP_STREAMING;
            return 0;
        }
    }
    errno = (request == VIDIOC_ENUM_FMT || request == VIDIOC_ENUM_FRAMESIZES) ? EINVAL : ENOTTY;
    return -1;
}

static inline ssize_t CV4L2_synthetic_read(void *device, int descriptor, void *buffer, size_t length) {
    (void)device; (void)descriptor; (void)buffer; (void)length;
    errno = EINVAL;
    return -1;
}

static inline ssize_t CV4L2_synthetic_write(void *device, int descriptor, const void *buffer, size_t length) {
    (void)device; (void)descriptor; (void)buffer; (void)length;
    errno = EINVAL;
    return -1;
}

/// A libv4lconvert context for `device` (which must outlive it); NULL if libv4lconvert refuses.
/// Free with v4lconvert_destroy.
static inline struct v4lconvert_data *CV4L2_synthetic_converter_create(CV4L2_synthetic_device *device) {
    static const struct libv4l_dev_ops operations = {
        .init = CV4L2_synthetic_init,
        .close = CV4L2_synthetic_close,
        .ioctl = CV4L2_synthetic_ioctl,
        .read = CV4L2_synthetic_read,
        .write = CV4L2_synthetic_write,
    };
    return v4lconvert_create_with_dev_ops(-1, device, &operations);
}
