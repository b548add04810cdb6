"""The meme generator's supporting routes: built-in templates, thumbnails and fonts."""
