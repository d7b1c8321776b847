"""Inpainting: masked inversion × K starts, and pasting results back into the photo."""
