"""The service layer: the typed `System` every front end (API, pages, CLI, worker) is
handed, and the configuration it was built from. Use cases that own a transaction each
move here from the front ends (issue 15); `tokenflow/` composes the system and nothing
below it imports `tokenflow`."""
