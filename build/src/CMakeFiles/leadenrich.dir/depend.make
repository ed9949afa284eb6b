# Empty dependencies file for leadenrich.
# This may be replaced when dependencies are built.
