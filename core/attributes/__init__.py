"""Face attributes (age, gender) read by dlib's CC0 classifiers, run in PyTorch."""
