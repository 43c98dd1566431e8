"""The bundled sample company (Veltrano Mobility, fictional): a drop-box of mixed files plus
ground-truth question/answer pairs, generated deterministically so demos and tests agree."""
