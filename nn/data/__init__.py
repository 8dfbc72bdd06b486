"""Data loading (torch.utils.data and torchvision's MNIST): datasets, DataLoader, samplers, loaders."""
from . import transforms
from .dataloader import (BatchSampler, DataLoader, RandomSampler, Sampler, SequentialSampler,
                         SubsetRandomSampler, default_collate, default_convert)
from .dataset import ConcatDataset, Dataset, IterableDataset, Subset, TensorDataset, random_split
from .datasets import MNIST, CharDataset, FashionMNIST, TimeSeriesCSV, WindowDataset, data_home, read_idx

__all__ = ["Dataset", "IterableDataset", "TensorDataset", "ConcatDataset", "Subset", "random_split",
           "DataLoader", "Sampler", "SequentialSampler", "RandomSampler", "SubsetRandomSampler",
           "BatchSampler", "default_collate", "default_convert", "MNIST", "FashionMNIST", "CharDataset",
           "WindowDataset", "TimeSeriesCSV", "data_home", "read_idx", "transforms"]
