"""inpainting"""
