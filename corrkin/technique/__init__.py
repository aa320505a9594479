"""The technique model: a pose-conditioned diffusion model of swings (diffusers), fine-tuned per
batter with LoRA (peft); trained by ``train/train_technique.py``."""
