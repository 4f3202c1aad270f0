// CSDL2: SDL2 for Swift (pkg-config `sdl2`, Debian package libsdl2-dev). Only GameWindow imports it.
// SDL's header defines `main` away (SDL_main) on some platforms; SDL_MAIN_HANDLED keeps ours.
#ifndef GESTUREPAD_CSDL2_SHIM_H
#define GESTUREPAD_CSDL2_SHIM_H

#define SDL_MAIN_HANDLED 1
#include <SDL.h>

// Function-like and compound macros Swift cannot import, as constants and functions.
static const Uint32 CSDL2_WINDOWPOS_CENTERED = SDL_WINDOWPOS_CENTERED;
static const Uint32 CSDL2_PIXELFORMAT_RGB24 = SDL_PIXELFORMAT_RGB24;

#endif
