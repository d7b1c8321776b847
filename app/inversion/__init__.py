"""inversion"""
