"""Pure executor logic: what a try's result means, what the executor knows from the log. No I/O, no clock."""
