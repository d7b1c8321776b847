"""DocumentState is, field for field, the project document: to_document and from_document go there and back."""

import numpy as np

from app.document.state import Adopted, DocumentState, OpenedPhoto
from core.imageio import CropBox, load_photo
from core.placement import Placement
from core.resources import sample_photos
from core.sessions import EditedDirection


def test_the_state_and_the_project_document_map_one_to_one():
    photo = load_photo(sample_photos()[0])
    placement = Placement.default_for(photo).with_crop(CropBox(150, 40, 140))
    opened = OpenedPhoto(photo, photo.pixels, placement)
    image = np.full((64, 64, 3), 90, np.uint8)
    mask = np.zeros((photo.height, photo.width), np.uint8)
    mask[10:20, 10:20] = 255
    latent = np.arange(100, dtype=np.float32) / 100
    adopted = Adopted(None, placement, photo.pixels, latent, image, None, None, "z", "project result",
                      "dcgan-digiface@abc", {"method": "direct"})
    edits = (EditedDirection("smile", np.ones(100, np.float32) / 10, 2.0, 1.5, None, "supervised"),)
    state = DocumentState(opened, placement, mask, adopted, edits, 0.1)
    doc = state.to_document(embed=True)
    assert doc.crop == placement.crop and doc.alignment is None and doc.feather == 0.1
    assert np.array_equal(doc.mask, mask) and np.array_equal(doc.image, image) and doc.edits == edits
    assert (doc.model_id, doc.space) == ("dcgan-digiface@abc", "z")
    back = DocumentState.from_document(doc, photo)
    assert back.placement == placement and np.array_equal(back.mask, mask) and back.feather == 0.1
    assert back.edits == edits and back.adopted is not None
    assert np.array_equal(back.adopted.latent, latent) and back.adopted.record() == adopted.record()
