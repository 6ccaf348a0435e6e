"""The paper's figures: one module per kind of figure, all drawn in `style`'s one style."""
