"""CLIPScore of real images against their class prompt (paper Sec. 3.1)."""
