import hashlib
import json

from core.imageio import CropBox, load_photo
from core.resources import resources_dir, sample_face_crop, sample_photos


def test_sample_photos_are_shipped_with_provenance():
    record = json.loads((resources_dir() / "samples" / "provenance.json").read_text())["samples"]
    photos = sample_photos()
    assert {p.name for p in photos} == set(record) and len(photos) >= 2
    for path in photos:
        entry = record[path.name]
        assert hashlib.sha256(path.read_bytes()).hexdigest() == entry["sha256"]
        assert entry["license"] == "public domain"
        photo = load_photo(path)
        CropBox.from_dict(sample_face_crop(path)).validate(photo.width, photo.height)


def test_only_bundled_photos_get_a_recorded_crop(tmp_path):
    stranger = tmp_path / "astronaut.png"
    stranger.write_bytes((resources_dir() / "samples" / "astronaut.png").read_bytes())
    assert sample_face_crop(stranger) is None
