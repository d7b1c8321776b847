"""Landscape learning (Liu et al., ICCV 2023): a mapping θ: Z→X under which a few descent steps invert well."""
