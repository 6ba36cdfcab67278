enum ExportersPlaceholder {}
