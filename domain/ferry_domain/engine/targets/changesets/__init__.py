"""What the engine records of each live import: per record, the key, the
action and the before-image, in the target beside the entity table
(``tables``), written by the target writers in the batch's own transaction
(``recorder``). Reading, diffing, undoing and purging them is
``ferry_domain.changesets``."""
