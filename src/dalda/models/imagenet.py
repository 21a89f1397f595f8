"""ImageNet's normalisation statistics (torchvision's), which ImageNet-trained weights expect of their input.

The ResNet50 probe, Inception-v3's FID features and DINO's processor all normalise with them.
"""

IMAGENET_MEAN = (0.485, 0.456, 0.406)
IMAGENET_STD = (0.229, 0.224, 0.225)
