"""Training: one network, in whatever process it lands in. Build and train it (the lean batch
loop, or a graph traced once per structure and reused), score it, and keep the process healthy
(allocator, TensorFlow threads, custom-gradient registry, session clearing).

The bottom room of the runtime: it imports the NetSpec, the builder, the Evaluation and the
task, never an executor, a candidate or a run record.
"""
