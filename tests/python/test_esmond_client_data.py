"""esmond-client 4.2.1 (converted with 2to3, logic unchanged) writing and reading data of every
data type through esmond-rs: EventTypePost (one point per request), EventTypeBulkPost (pScheduler's
form), and the query classes' own paging loop. Needs ESMOND_URL and ESMOND_KEY.
"""

import os
import unittest
import uuid
import warnings

from esmond_client.perfsonar.post import EventTypeBulkPost, EventTypePost, MetadataPost
from esmond_client.perfsonar.query import ApiConnect, ApiFilters

URL = os.environ["ESMOND_URL"]
KEY = os.environ["ESMOND_KEY"]
DAY = 1_400_025_600  # a UTC midnight
HISTOGRAMS = [{"41.00": 98, "41.10": 2}, {"41.10": 96, "41.20": 3, "50.0": 1}]


def create_metadata():
    metadata = MetadataPost(
        URL, username="client", api_key=KEY, subject_type="point-to-point",
        source="10.30.0.1", destination="10.30.0.2", tool_name="esmond-client/test",
        measurement_agent="10.30.0.1", input_source="a.example.net", input_destination="b.example.net",
    )
    metadata.add_freeform_key_value("run-tag", uuid.uuid4().hex)
    metadata.add_event_type("throughput")
    metadata.add_summary_type("throughput", "average", [86400])
    metadata.add_event_type("ntp-offset")
    metadata.add_summary_type("ntp-offset", "aggregation", [3600])
    metadata.add_event_type("packet-loss-rate")
    metadata.add_summary_type("packet-loss-rate", "aggregation", [3600])
    metadata.add_event_type("histogram-owdelay")
    metadata.add_summary_type("histogram-owdelay", "aggregation", [86400])
    metadata.add_summary_type("histogram-owdelay", "statistics", [0, 86400])
    metadata.add_event_type("packet-trace")
    metadata.add_event_type("throughput-subintervals")
    return metadata.post_metadata().metadata_key


def data(record, event_type, summary=None):
    event = record.get_event_type(event_type)
    source = event if summary is None else event.get_summary(*summary)
    return [(point.ts_epoch, point.val) for point in source.get_data().data]


class DataThroughTheClient(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.key = create_metadata()
        single = EventTypePost(URL, username="client", api_key=KEY, metadata_key=cls.key, event_type="ntp-offset")
        single.add_data_point(DAY + 60, 0.57)
        single.add_data_point(DAY + 120, 0.25)
        single.post_data()
        trace = EventTypePost(URL, username="client", api_key=KEY, metadata_key=cls.key, event_type="packet-trace")
        trace.add_data_point(DAY + 60, [{"ttl": 1, "ip": "10.30.0.9", "rtt": 0.5}])
        trace.post_data()

        bulk = EventTypeBulkPost(URL, username="client", api_key=KEY, metadata_key=cls.key)
        for index, histogram in enumerate(HISTOGRAMS):
            ts = DAY + 60 * (index + 1)
            bulk.add_data_point("throughput", ts, 9000000000 + index)
            bulk.add_data_point("packet-loss-rate", ts, {"numerator": index, "denominator": 10})
            bulk.add_data_point("histogram-owdelay", ts, histogram)
            bulk.add_data_point("throughput-subintervals", ts, [{"start": "0.0", "duration": "1.0", "val": "100"}])
        bulk.post_data()
        (cls.record,) = list(ApiConnect(URL, ApiFilters_with(metadata_key=cls.key)).get_metadata())

    def test_integers(self):
        self.assertEqual(data(self.record, "throughput"), [(DAY + 60, 9000000000.0), (DAY + 120, 9000000001.0)])
        self.assertEqual(data(self.record, "throughput", ("average", 86400)), [(DAY, 9000000000.5)])

    def test_floats_are_exact(self):
        self.assertEqual(data(self.record, "ntp-offset"), [(DAY + 60, 0.57), (DAY + 120, 0.25)])
        self.assertEqual(data(self.record, "ntp-offset", ("aggregation", 3600)), [(DAY, 0.57 + 0.25)])

    def test_percentages(self):
        self.assertEqual(data(self.record, "packet-loss-rate"), [(DAY + 60, 0.0), (DAY + 120, 0.1)])
        self.assertEqual(data(self.record, "packet-loss-rate", ("aggregation", 3600)), [(DAY, 0.05)])

    def test_histograms_and_statistics(self):
        self.assertEqual(data(self.record, "histogram-owdelay"), [(DAY + 60, HISTOGRAMS[0]), (DAY + 120, HISTOGRAMS[1])])
        self.assertEqual(
            data(self.record, "histogram-owdelay", ("aggregation", 86400)),
            [(DAY, {"41.00": 98, "41.10": 98, "41.20": 3, "50.0": 1})],
        )
        (daily,) = data(self.record, "histogram-owdelay", ("statistics", 86400))
        self.assertEqual(daily[1]["median"], 41.1)
        self.assertEqual(daily[1]["mode"], [41.0, 41.1])
        self.assertAlmostEqual(daily[1]["mean"], 41.097)
        per_point = data(self.record, "histogram-owdelay", ("statistics", 0))
        self.assertEqual([ts for ts, _ in per_point], [DAY + 60, DAY + 120])
        self.assertEqual(per_point[0][1]["maximum"], 41.1)

    def test_documents(self):
        self.assertEqual(data(self.record, "packet-trace"), [(DAY + 60, [{"ttl": 1, "ip": "10.30.0.9", "rtt": 0.5}])])
        self.assertEqual(
            data(self.record, "throughput-subintervals"),
            [(ts, [{"start": "0.0", "duration": "1.0", "val": "100"}]) for ts in (DAY + 60, DAY + 120)],
        )

    def test_event_types_carry_time_updated(self):
        for event_type in ("throughput", "ntp-offset", "histogram-owdelay", "packet-trace"):
            self.assertIsNotNone(self.record.get_event_type(event_type)._data["time-updated"], event_type)


class PagingThroughTheClient(unittest.TestCase):
    def test_client_loop_reads_every_point(self):
        # 2,500 points: the client reads them 1,000 at a time, restarting after the last ts.
        key = create_metadata()
        start = DAY - 10 * 86400
        for chunk in range(5):
            bulk = EventTypeBulkPost(URL, username="client", api_key=KEY, metadata_key=key)
            for index in range(chunk * 500, chunk * 500 + 500):
                bulk.add_data_point("throughput", start + index * 30, index)
            bulk.post_data()
        (record,) = list(ApiConnect(URL, ApiFilters_with(metadata_key=key)).get_metadata())
        points = data(record, "throughput")
        self.assertEqual([ts for ts, _ in points], [start + index * 30 for index in range(2500)])
        self.assertEqual(points[-1][1], 2499.0)


def ApiFilters_with(**settings):
    filters = ApiFilters()
    for name, value in settings.items():
        setattr(filters, name, value)
    return filters


if __name__ == "__main__":
    warnings.simplefilter("error")
    unittest.main(verbosity=2)
