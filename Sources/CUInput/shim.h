// CUInput: the Linux uinput interface (<linux/uinput.h>, <linux/input.h>,
// <linux/input-event-codes.h>) and the evdev reads of the pause hotkey (EVIOCGBIT, EVIOCGNAME,
// read, poll), imported only by Daemon. Headers come from Debian's linux-libc-dev
// (always installed with the C toolchain); nothing is linked. Swift cannot import function-like
// macros (_IOW, UI_GET_SYSNAME(len)) or call variadic ioctl(2), so the requests and constants are
// exported as `CUINPUT_`-prefixed `static const` values and ioctl/open/write/close get fixed-arity
// wrappers that capture errno right after the call (swift-nio CNIOLinux style). No retrying here:
// the Swift caller retries EINTR.
#pragma once

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdint.h>
#include <sys/ioctl.h>
#include <unistd.h>
#include <linux/input.h>
#include <linux/input-event-codes.h>
#include <linux/uinput.h>

// MARK: - ioctl requests

/// UI_SET_EVBIT: enable one event type (EV_KEY, EV_SYN); the argument is the type as an int value.
static const unsigned long CUINPUT_UI_SET_EVBIT = UI_SET_EVBIT;
/// UI_SET_KEYBIT: enable one key code; the argument is the code as an int value.
static const unsigned long CUINPUT_UI_SET_KEYBIT = UI_SET_KEYBIT;
/// UI_DEV_SETUP: name, ids and bus of the device to create; the argument points at a struct uinput_setup.
static const unsigned long CUINPUT_UI_DEV_SETUP = UI_DEV_SETUP;
/// UI_DEV_CREATE: create the input device described so far; no argument.
static const unsigned long CUINPUT_UI_DEV_CREATE = UI_DEV_CREATE;
/// UI_DEV_DESTROY: remove the input device (the kernel releases its held keys); no argument.
static const unsigned long CUINPUT_UI_DEV_DESTROY = UI_DEV_DESTROY;
/// The length of the buffer CUINPUT_UI_GET_SYSNAME writes into.
#define CUINPUT_SYSNAME_LENGTH 64
/// UI_GET_SYSNAME(64): the sysfs name of the created device ("input42") into a 64-byte buffer.
static const unsigned long CUINPUT_UI_GET_SYSNAME = UI_GET_SYSNAME(CUINPUT_SYSNAME_LENGTH);

// MARK: - evdev ioctl requests (reading keyboards for the pause hotkey)

/// Bytes of the event-type bitmap: one bit per EV_* type up to EV_MAX.
static const int CUINPUT_EVENT_TYPE_BITS_LENGTH = (EV_MAX + 8) / 8;
/// EVIOCGBIT(0, len): which event types (EV_KEY, EV_REL, ...) the device sends, into a bitmap.
static const unsigned long CUINPUT_EVIOCGBIT_TYPES = EVIOCGBIT(0, (EV_MAX + 8) / 8);
/// Bytes of the key bitmap: one bit per key code up to KEY_MAX.
static const int CUINPUT_KEY_BITS_LENGTH = (KEY_MAX + 8) / 8;
/// EVIOCGBIT(EV_KEY, len): which key codes the device has, into a bitmap.
static const unsigned long CUINPUT_EVIOCGBIT_KEYS = EVIOCGBIT(EV_KEY, (KEY_MAX + 8) / 8);
/// The length of the buffer CUINPUT_EVIOCGNAME writes into.
#define CUINPUT_DEVICE_NAME_LENGTH 256
/// EVIOCGNAME(256): the device's name ("AT Translated Set 2 keyboard") into a 256-byte buffer.
static const unsigned long CUINPUT_EVIOCGNAME = EVIOCGNAME(CUINPUT_DEVICE_NAME_LENGTH);
/// SYN_DROPPED: the reader fell behind and the kernel dropped events (key state must be re-learned).
static const uint16_t CUINPUT_SYN_DROPPED = SYN_DROPPED;
/// POLLIN, POLLERR, POLLHUP, POLLNVAL for poll(2)'s revents.
static const short CUINPUT_POLLIN = POLLIN;
static const short CUINPUT_POLL_FAILED = POLLERR | POLLHUP | POLLNVAL;

// MARK: - Event types, codes, bus types, sizes

static const uint16_t CUINPUT_EV_SYN = EV_SYN;
static const uint16_t CUINPUT_EV_KEY = EV_KEY;
static const uint16_t CUINPUT_SYN_REPORT = SYN_REPORT;
/// The highest key code a device can enable.
static const uint16_t CUINPUT_KEY_MAX = KEY_MAX;
static const uint16_t CUINPUT_BUS_USB = BUS_USB;
static const uint16_t CUINPUT_BUS_VIRTUAL = BUS_VIRTUAL;
/// The size of struct uinput_setup's name field, terminating NUL included.
static const int CUINPUT_MAX_NAME_SIZE = UINPUT_MAX_NAME_SIZE;
/// sizeof(struct input_event): 24 bytes on 64-bit Linux (timeval 16 + type 2 + code 2 + value 4).
static const int CUINPUT_INPUT_EVENT_SIZE = sizeof(struct input_event);

// MARK: - Key codes (a sample the Swift key table is checked against in tests)

static const uint16_t CUINPUT_KEY_ESC = KEY_ESC;
static const uint16_t CUINPUT_KEY_1 = KEY_1;
static const uint16_t CUINPUT_KEY_0 = KEY_0;
static const uint16_t CUINPUT_KEY_A = KEY_A;
static const uint16_t CUINPUT_KEY_C = KEY_C;
static const uint16_t CUINPUT_KEY_Z = KEY_Z;
static const uint16_t CUINPUT_KEY_TAB = KEY_TAB;
static const uint16_t CUINPUT_KEY_ENTER = KEY_ENTER;
static const uint16_t CUINPUT_KEY_SPACE = KEY_SPACE;
static const uint16_t CUINPUT_KEY_LEFTCTRL = KEY_LEFTCTRL;
static const uint16_t CUINPUT_KEY_LEFTSHIFT = KEY_LEFTSHIFT;
static const uint16_t CUINPUT_KEY_LEFTALT = KEY_LEFTALT;
static const uint16_t CUINPUT_KEY_LEFTMETA = KEY_LEFTMETA;
static const uint16_t CUINPUT_KEY_RIGHTALT = KEY_RIGHTALT;
static const uint16_t CUINPUT_KEY_F1 = KEY_F1;
static const uint16_t CUINPUT_KEY_F10 = KEY_F10;
static const uint16_t CUINPUT_KEY_F11 = KEY_F11;
static const uint16_t CUINPUT_KEY_F12 = KEY_F12;
static const uint16_t CUINPUT_KEY_UP = KEY_UP;
static const uint16_t CUINPUT_KEY_DOWN = KEY_DOWN;
static const uint16_t CUINPUT_KEY_LEFT = KEY_LEFT;
static const uint16_t CUINPUT_KEY_RIGHT = KEY_RIGHT;
static const uint16_t CUINPUT_KEY_PAGEUP = KEY_PAGEUP;
static const uint16_t CUINPUT_KEY_PAGEDOWN = KEY_PAGEDOWN;
static const uint16_t CUINPUT_KEY_HOME = KEY_HOME;
static const uint16_t CUINPUT_KEY_END = KEY_END;
static const uint16_t CUINPUT_KEY_SYSRQ = KEY_SYSRQ;
static const uint16_t CUINPUT_KEY_MUTE = KEY_MUTE;
static const uint16_t CUINPUT_KEY_VOLUMEUP = KEY_VOLUMEUP;
static const uint16_t CUINPUT_KEY_PLAYPAUSE = KEY_PLAYPAUSE;
static const uint16_t CUINPUT_KEY_NEXTSONG = KEY_NEXTSONG;

// MARK: - open(2) flags

/// O_WRONLY | O_NONBLOCK | O_CLOEXEC: uinput is only written to; never block the daemon's loop.
static const int CUINPUT_O_WRONLY_NONBLOCK_CLOEXEC = O_WRONLY | O_NONBLOCK | O_CLOEXEC;
/// O_RDONLY | O_NONBLOCK | O_CLOEXEC: keyboards are only read (never grabbed), without blocking.
static const int CUINPUT_O_RDONLY_NONBLOCK_CLOEXEC = O_RDONLY | O_NONBLOCK | O_CLOEXEC;

// MARK: - System calls with errno captured immediately
// Each returns what the call returns and stores errno in *error_number (0 on success).

/// open(path, flags).
static inline int CUINPUT_open(const char *path, int flags, int *error_number) {
    errno = 0;
    int result = open(path, flags);
    *error_number = result < 0 ? errno : 0;
    return result;
}

/// ioctl(descriptor, request, value): requests whose argument is an int passed by value (UI_SET_*BIT),
/// or no argument at all (UI_DEV_CREATE, UI_DEV_DESTROY: pass 0).
static inline int CUINPUT_ioctl_value(int descriptor, unsigned long request, int value, int *error_number) {
    errno = 0;
    int result = ioctl(descriptor, request, value);
    *error_number = result < 0 ? errno : 0;
    return result;
}

/// ioctl(descriptor, request, argument): requests whose argument points at a struct or buffer
/// (UI_DEV_SETUP → struct uinput_setup, UI_GET_SYSNAME → char[64]).
static inline int CUINPUT_ioctl_pointer(int descriptor, unsigned long request, void *argument, int *error_number) {
    errno = 0;
    int result = ioctl(descriptor, request, argument);
    *error_number = result < 0 ? errno : 0;
    return result;
}

/// write(descriptor, bytes, length): the number of bytes written, or -1.
static inline ssize_t CUINPUT_write(int descriptor, const void *bytes, size_t length, int *error_number) {
    errno = 0;
    ssize_t result = write(descriptor, bytes, length);
    *error_number = result < 0 ? errno : 0;
    return result;
}

/// close(descriptor).
static inline int CUINPUT_close(int descriptor, int *error_number) {
    errno = 0;
    int result = close(descriptor);
    *error_number = result < 0 ? errno : 0;
    return result;
}

/// read(descriptor, bytes, length): the number of bytes read, or -1.
static inline ssize_t CUINPUT_read(int descriptor, void *bytes, size_t length, int *error_number) {
    errno = 0;
    ssize_t result = read(descriptor, bytes, length);
    *error_number = result < 0 ? errno : 0;
    return result;
}

/// poll(descriptors, count, timeout_ms): how many descriptors have events, 0 on timeout, or -1.
static inline int CUINPUT_poll(struct pollfd *descriptors, unsigned long count, int timeout_milliseconds,
                               int *error_number) {
    errno = 0;
    int result = poll(descriptors, (nfds_t)count, timeout_milliseconds);
    *error_number = result < 0 ? errno : 0;
    return result;
}
