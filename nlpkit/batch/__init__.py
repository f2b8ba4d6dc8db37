"""Streaming batch prediction: classify a file of any size in bounded memory, in order.

Input is JSON lines (one record per line; the text in ``text_field``, an optional title in
``title_field``) or plain text (one text per line), plain or gzip-compressed. Every input line
gives exactly one output line, in order, whatever it holds: the input record plus ``topic`` and
``probabilities``, or, for a line that cannot be used (blank, a NUL byte, not UTF-8, not JSON,
no usable text, longer than `LINE_LIMIT`), the record or its line number with an ``error``
field and the ``line`` number. Lines end with LF, CRLF or CR: the first line end of the input
says which (a file of CR line ends is split on CR; in any other, a CR inside a JSON line is
JSON white space). That one-to-one order is what lets ``resume`` skip the lines an interrupted
run already wrote, after checking that they were written for this input, model and settings.

Reading, decoding, encoding and writing go by chunks of whole lines: the process that reads
the input cuts it into chunks without decoding a line, and the one that classifies a chunk
(itself, or a worker process) decodes, classifies and encodes all of it; with several workers
the reading process only moves bytes.

Its modules, one job each, in the order the data goes: `reading` (an input as jobs of whole
lines), `records` (a line to its record and item, a record to its output line), `answering`
(a job's items classified and written as output lines), `workers` (jobs answered by worker
processes, in order), `output` (the output file's lock, run record and ``resume`` checks) and
`streaming` (`predict_stream` and `predict_file`, which run them); beside them, `naming` (how
their messages name a setting: ``--text-field`` to the command, ``text_field=`` to Python).
"""

from .answering import probabilities_or_errors, topic_of
from .output import run_record_path
from .reading import LINE_LIMIT, DamagedInput, InputError
from .reading import sniff as sniff
from .records import FIELD_SAMPLE as FIELD_SAMPLE
from .records import OUTPUT_FIELDS
from .streaming import BatchReport, OutputError, predict_file, predict_stream
from .workers import WorkerError

__all__ = [
    "BatchReport",
    "InputError",
    "DamagedInput",
    "OutputError",
    "WorkerError",
    "LINE_LIMIT",
    "predict_stream",
    "predict_file",
    "probabilities_or_errors",
    "topic_of",
    "run_record_path",
    "OUTPUT_FIELDS",
]
