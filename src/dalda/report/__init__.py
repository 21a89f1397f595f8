"""Reports: the paper's tables, figures and image grids from run directories, gathered in one HTML page."""
