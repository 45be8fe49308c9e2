# The end-to-end scripts share the examples' helpers.
source examples/lib.bash
