"""Services behind the API routes: each module turns store/analysis/intel data into the JSON
shapes of :mod:`chaintrail.api.models`. Routes never touch the store directly."""
