"""Outputs in the languages of other datasets and tools.

* :mod:`~shatterbelt.exports.panel`: the self-describing panel (measure, subject, region code
  and name), the metric dictionary written as ``metrics.csv``, xarray and NetCDF;
* :mod:`~shatterbelt.exports.acled`: events with ACLED's full column set and codes;
* :mod:`~shatterbelt.exports.ged`: events as UCDP GED (type of violence, dyads, best/low/high);
* :mod:`~shatterbelt.exports.places`: the admin-1 crosswalk (ACLED's, GED's and the map's
  spellings of each region code, capitals and their coordinates) and country codes.
"""
