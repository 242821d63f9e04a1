from evokit.encodings.textcnn import TextCNN

# name -> (zero-argument factory, dataset of its real GA test, the (input_shape, n_outputs) it is checked on)
TEXT_SHAPES = [((20,), 6)]  # windows wider than a short input: tests/encodings/test_textcnn.py
CASES = {"textcnn": (lambda: TextCNN(embedding_dims=(4, 8), widths=(2, 3, 5), filters=(4, 8), units=(0, 8)),
                     "languages", TEXT_SHAPES),
         "textcnn-weights": (lambda: TextCNN(mode="weights", embedding_dims=(4, 8), widths=(2, 3, 5), filters=(4, 8)),
                             "languages", TEXT_SHAPES)}
