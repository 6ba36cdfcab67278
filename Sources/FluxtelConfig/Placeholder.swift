enum FluxtelConfigPlaceholder {}
