// CStbImage: Debian's libstb — stb_image (PNG, JPEG, BMP, … decoding) and stb_image_write (PNG
// encoding) — imported only by Capture.
#pragma once
#include <stb_image.h>
#include <stb_image_write.h>
