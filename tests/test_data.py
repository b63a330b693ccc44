"""Loading and validating sales histories: every rule's message, the clock, the views."""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from pricegym.demand.data import SalesHistory, load_history
from pricegym.errors import DataValidationError, PricegymWarning


def weekly(n: int = 6, **extra: list[object]) -> pd.DataFrame:
    """``n`` weekly rows from Monday 2020-01-06 with varying prices, plus ``extra`` columns."""
    frame = pd.DataFrame(
        {
            "date": pd.date_range("2020-01-06", periods=n, freq="7D").strftime("%Y-%m-%d"),
            "price": [2.0 + 0.1 * i for i in range(n)],
            "units": [10 + i for i in range(n)],
        }
    )
    for name, values in extra.items():
        frame[name] = values
    return frame


def write_csv(frame: pd.DataFrame, path: Path) -> Path:
    frame.to_csv(path, index=False)
    return path


# ----------------------------------------------------------------- rule 1
def test_missing_column_names_role_columns_and_suggestion(tmp_path: Path) -> None:
    path = write_csv(
        weekly().rename(columns={"price": "avgprc", "units": "totqty"}), tmp_path / "s.csv"
    )
    with pytest.raises(DataValidationError) as info:
        load_history(path, price="avgprice", units="totqty")
    message = str(info.value)
    assert str(path) in message
    assert "missing column 'avgprice'" in message
    assert "the own price" in message
    assert "['date', 'avgprc', 'totqty']" in message
    assert "Did you mean 'avgprc'?" in message
    assert "price='avgprc'" in message and "--price avgprc" in message


def test_missing_clock_column_says_which_option_to_pass() -> None:
    frame = weekly().rename(columns={"date": "day"})
    with pytest.raises(DataValidationError, match=r"no date or period column.*date='<column>'"):
        load_history(frame)


def test_competitor_named_like_a_canonical_column_is_refused() -> None:
    frame = weekly(cost=[1.0] * 6).rename(columns={"price": "own"})
    frame["price"] = 3.0
    with pytest.raises(DataValidationError, match="would clash with the canonical column"):
        load_history(frame, price="own", competitors=["price"])


# ------------------------------------------------------------- rules 2 - 5
ROW_RULES = [
    # column in the CSV, bad cell, phrase of the rule, value as the message shows it
    ("price", "abc", "not a number", "('abc')"),
    ("units", "", "empty cell", "(empty)"),
    ("price", "0", "prices must be > 0", "(0)"),
    ("price", "-1.5", "prices must be > 0", "(-1.5)"),
    ("pimin", "0", "competitor prices must be > 0", "(0)"),
    ("cost", "-0.5", "unit costs must be >= 0", "(-0.5)"),
    ("units", "-3", "units sold must be >= 0", "(-3)"),
    ("promo", "yes", "not a number", "('yes')"),
]


@pytest.mark.parametrize(("column", "cell", "phrase", "shown"), ROW_RULES)
def test_row_rule_message_names_file_row_column_value_rule_and_fix(
    tmp_path: Path, column: str, cell: str, phrase: str, shown: str
) -> None:
    frame = weekly(pimin=[2.5] * 6, cost=[1.0] * 6, promo=[0, 1, 0, 0, 1, 0]).astype(str)
    frame.loc[3, column] = cell  # data row 4 = line 5 of the file (header is line 1)
    path = write_csv(frame, tmp_path / "sales.csv")
    with pytest.raises(DataValidationError) as info:
        load_history(path, cost="cost", competitors=["pimin"], promotions=["promo"])
    message = str(info.value)
    assert message.startswith(f"{path}: 1 row breaks")
    assert f"column {column!r}" in message
    assert f"row 5 {shown}" in message
    assert phrase in message
    assert "[1 row in total]" in message
    assert "drop_invalid=True" in message and "--drop-invalid" in message


def test_row_rule_lists_first_five_rows_and_the_total(tmp_path: Path) -> None:
    frame = weekly(12)
    frame.loc[2:8, "units"] = -1  # seven bad rows: data rows 3..9, lines 4..10
    with pytest.raises(DataValidationError) as info:
        load_history(write_csv(frame, tmp_path / "s.csv"))
    message = str(info.value)
    assert "row 4 (-1), row 5 (-1), row 6 (-1), row 7 (-1), row 8 (-1)" in message
    assert "row 9" not in message
    assert "... and 2 more [7 rows in total]" in message


def test_row_numbers_count_blank_lines_like_an_editor(tmp_path: Path) -> None:
    path = tmp_path / "blank.csv"
    path.write_text("date,price,units\n2020-01-06,2,5\n\n2020-01-13,x,5\n2020-01-20,3,5\n")
    with pytest.raises(DataValidationError, match=r"row 4 \('x'\)"):
        load_history(path)


def test_dataframe_rows_are_numbered_as_if_written_to_csv() -> None:
    frame = weekly()
    frame.loc[0, "price"] = -2.0
    with pytest.raises(DataValidationError) as info:
        load_history(frame)
    assert str(info.value).startswith("<DataFrame>: 1 row breaks")
    assert "row 2 (-2)" in str(info.value)


# ----------------------------------------------------------- drop_invalid
def test_drop_invalid_drops_counts_notes_and_warns(tmp_path: Path) -> None:
    frame = weekly(8).astype(str)
    frame.loc[1, "price"] = "n/a"  # line 3
    frame.loc[4, "units"] = "-2"  # line 6
    frame.loc[6, "price"] = "0"  # line 8
    path = write_csv(frame, tmp_path / "s.csv")
    with pytest.warns(PricegymWarning) as record:
        history = load_history(path, drop_invalid=True)
    assert history.n_rows == 5
    np.testing.assert_allclose(history.price, [2.0, 2.2, 2.3, 2.5, 2.7])
    np.testing.assert_allclose(history.t, [0, 2, 3, 5, 7])  # dropped weeks leave gaps
    (note,) = history.notes
    assert note.startswith("dropped 3 of 8 rows that broke row-level rules")
    assert "rule 2 not a number: 1" in note
    assert "rule 4 price <= 0: 1" in note and "rule 5 negative units: 1" in note
    assert "row 3 (date='2020-01-13', price='n/a', units=11)" in note
    assert "row 6 (" in note and "row 8 (" in note
    assert str(record[0].message) == f"{path}: {note}"


def test_drop_invalid_never_drops_duplicates() -> None:
    frame = weekly()
    frame.loc[2, "date"] = frame.loc[1, "date"]
    with pytest.raises(DataValidationError, match="duplicate periods"):
        load_history(frame, drop_invalid=True)


# ----------------------------------------------------------------- rule 6
def test_duplicate_period_names_rows_value_and_rule(tmp_path: Path) -> None:
    frame = weekly()
    frame.loc[4, "date"] = "2020-01-13"  # the same week as data row 2
    path = write_csv(frame, tmp_path / "dup.csv")
    with pytest.raises(DataValidationError) as info:
        load_history(path)
    message = str(info.value)
    assert "duplicate periods: 2 rows share a date (column 'date')" in message
    assert "date 2020-01-13 in rows 3, 6" in message
    assert "one row per period within a product" in message
    assert "product=..." in message


def test_duplicates_are_checked_within_products_not_across() -> None:
    dates = ["2020-01-06", "2020-01-13"] * 2
    frame = pd.DataFrame(
        {"date": dates, "price": [1.0, 2.0, 3.0, 4.0], "units": 1, "sku": ["a", "a", "b", "b"]}
    )
    history = load_history(frame, product="sku")
    assert history.products == ("a", "b")
    np.testing.assert_array_equal(history.t, [0, 1, 0, 1])

    frame.loc[3, "date"] = "2020-01-06"
    with pytest.raises(DataValidationError, match=r"date 2020-01-06 of product 'b' in rows 4, 5"):
        load_history(frame, product="sku")


# ----------------------------------------------------------------- rule 7
def test_unsorted_dates_are_sorted_with_a_note() -> None:
    frame = weekly(4).iloc[[1, 0, 2, 3]].reset_index(drop=True)
    history = load_history(frame)
    assert history.notes == ("2 of 4 rows were out of order and have been sorted by date.",)
    np.testing.assert_allclose(history.price, [2.0, 2.1, 2.2, 2.3])
    np.testing.assert_allclose(history.t, [0, 1, 2, 3])


def test_interleaved_panel_is_sorted_by_product_then_period() -> None:
    frame = pd.DataFrame(
        {"period": [1, 1, 2, 2], "store": [7, 3, 7, 3], "price": [1, 2, 3, 4], "units": 0}
    )
    history = load_history(frame, product="store")
    assert history.frame["product"].tolist() == ["7", "7", "3", "3"]
    assert history.frame["period"].tolist() == [1, 2, 1, 2]
    assert history.notes == (
        "2 of 4 rows were out of order and have been sorted by product, then period.",
    )


# ----------------------------------------------------------------- rule 8
def test_constant_price_is_refused() -> None:
    frame = weekly()
    frame["price"] = 4.99
    with pytest.raises(DataValidationError) as info:
        load_history(frame)
    message = str(info.value)
    assert "the price never varies: all 6 rows have price 4.99 (column 'price')" in message
    assert "no price effect can be identified" in message


def test_require_price_variation_after_subsetting() -> None:
    frame = pd.DataFrame(
        {"period": [1, 2, 1, 2], "p": ["a", "a", "b", "b"], "price": [5, 5, 1, 2], "units": 3}
    )
    history = load_history(frame, product="p")
    history.require_price_variation()
    history.for_product("b").require_price_variation()
    with pytest.raises(DataValidationError, match="all 2 rows have price 5"):
        history.for_product("a").require_price_variation()


# ----------------------------------------------------------------- rule 9
def test_unparseable_date_names_row_and_value(tmp_path: Path) -> None:
    frame = weekly()
    frame.loc[2, "date"] = "2020-13-45"
    path = write_csv(frame, tmp_path / "d.csv")
    with pytest.raises(DataValidationError) as info:
        load_history(path)
    message = str(info.value)
    assert f"{path}: 1 date in column 'date' cannot be parsed" in message
    assert "row 4 ('2020-13-45')" in message
    assert "YYYY-MM-DD" in message


def test_numbers_mapped_as_dates_suggest_period() -> None:
    frame = pd.DataFrame({"year": [1990, 1991], "price": [1, 2], "units": [3, 4]})
    with pytest.raises(DataValidationError, match=r"holds numbers such as 1990.*period='year'"):
        load_history(frame, date="year")


def test_dates_off_the_weekly_grid_raise() -> None:
    frame = weekly(4)
    frame.loc[3, "date"] = "2020-01-30 12:00"  # 3.5 weeks after the first date
    with pytest.raises(DataValidationError) as info:
        load_history(frame)
    message = str(info.value)
    assert "row 5 (2020-01-30T12:00:00 is 3.5 weeks after 2020-01-06)" in message
    assert "whole weeks apart" in message


def test_irregular_dates_ask_for_freq() -> None:
    frame = pd.DataFrame(
        {"date": ["2020-01-01", "2020-01-04", "2020-01-08"], "price": [1, 2, 3], "units": 1}
    )
    with pytest.raises(DataValidationError, match=r"median gap .* is 3.5 days.*pass freq="):
        load_history(frame)
    assert load_history(frame, freq="D").t.tolist() == [0.0, 3.0, 7.0]


def test_fractional_period_numbers_raise() -> None:
    frame = pd.DataFrame({"period": [1, 2, 2.5], "price": [1, 2, 3], "units": 1})
    with pytest.raises(DataValidationError, match=r"row 4 \(2.5\)"):
        load_history(frame)


def test_freq_with_integer_periods_is_refused() -> None:
    frame = pd.DataFrame({"period": [1, 2], "price": [1, 2], "units": 1})
    with pytest.raises(DataValidationError, match="integer periods have none"):
        load_history(frame, freq="W")


# --------------------------------------------------------------- the clock
@pytest.mark.parametrize(
    ("dates", "freq", "t"),
    [
        (["2021-03-01", "2021-03-02", "2021-03-05"], "D", [0, 1, 4]),
        (["2021-03-01", "2021-03-08", "2021-03-29"], "W", [0, 1, 4]),
        (["2020-01-31", "2020-02-29", "2020-04-30"], "M", [0, 1, 3]),  # month ends
        (["2020-01-15", "2020-02-15", "2020-03-15", "2020-07-15"], "M", [0, 1, 2, 6]),
        (["2019-03-31", "2019-06-30", "2020-03-31"], "Q", [0, 1, 4]),
        (["2001-07-01", "2002-07-01", "2005-07-01"], "Y", [0, 1, 4]),
    ],
)
def test_t_counts_periods_of_the_inferred_frequency(
    dates: list[str], freq: str, t: list[float]
) -> None:
    prices = np.arange(1.0, len(dates) + 1)
    history = load_history(pd.DataFrame({"date": dates, "price": prices, "units": 1}))
    assert history.freq == freq
    assert history.t.tolist() == t
    assert history.frame["date"].dtype == np.dtype("datetime64[ns]")


def test_t_is_zero_at_the_earliest_period_of_the_whole_panel() -> None:
    frame = pd.DataFrame(
        {
            "date": ["2020-01-20", "2020-01-27", "2020-01-06", "2020-01-20"],
            "sku": ["late", "late", "early", "early"],
            "price": [1, 2, 3, 4],
            "units": 1,
        }
    )
    history = load_history(frame, product="sku")
    assert history.products == ("late", "early")
    assert history.t.tolist() == [2.0, 3.0, 0.0, 2.0]


def test_t_for_integer_periods_and_auto_detected_week_column() -> None:
    frame = pd.DataFrame({"week": [5, 6, 9], "price": [1, 2, 3], "units": [0, 1, 2]})
    history = load_history(frame)
    assert history.freq is None
    assert history.frame.columns.tolist() == ["period", "t", "price", "units"]
    assert history.frame["period"].tolist() == [5, 6, 9]
    assert history.t.tolist() == [0.0, 1.0, 4.0]
    assert history.notes == (
        "column 'week' was used as the period (auto-detected); pass date=... or period=... "
        "to choose another column.",
    )


def test_monthly_dates_on_different_days_raise() -> None:
    frame = pd.DataFrame(
        {"date": ["2020-01-15", "2020-02-15", "2020-03-15", "2020-04-16"], "price": [1, 2, 3, 4]}
    )
    frame["units"] = 1
    with pytest.raises(DataValidationError, match=r"row 5 \(2020-04-16\).*same point of its month"):
        load_history(frame)


# ------------------------------------------------------ files and mapping
def test_csv_and_parquet_round_trip_give_the_same_history(tmp_path: Path) -> None:
    frame = weekly(cost=[1.5] * 6, comp=[2.2] * 6, promo=[0, 0, 1, 1, 0, 0])
    options = {"cost": "cost", "competitors": ["comp"], "promotions": ["promo"]}
    from_frame = load_history(frame, **options)
    from_csv = load_history(write_csv(frame, tmp_path / "s.csv"), **options)
    frame.to_parquet(tmp_path / "s.parquet", index=False)
    from_parquet = load_history(tmp_path / "s.parquet", **options)
    expected = ["date", "t", "price", "units", "cost", "comp", "promo"]
    assert from_frame.frame.columns.tolist() == expected
    pd.testing.assert_frame_equal(from_csv.frame, from_frame.frame)
    pd.testing.assert_frame_equal(from_parquet.frame, from_frame.frame)
    assert from_parquet.source == str(tmp_path / "s.parquet")
    assert from_csv.competitors == ("comp",) and from_csv.promotions == ("promo",)


def test_column_mapping_with_avocado_like_names(tmp_path: Path) -> None:
    frame = pd.DataFrame(
        {
            "day": ["2015-01-04", "2015-01-11", "2015-01-18"],
            "avgprc": [0.93, 0.92, 1.02],
            "totqty": [5.78, 6.02, 5.57],
            "pimin": [0.9, 0.95, 1.0],
            "ignored": ["x", "y", "z"],
        }
    )
    history = load_history(
        write_csv(frame, tmp_path / "avo.csv"),
        date="day",
        price="avgprc",
        units="totqty",
        competitors="pimin",
    )
    assert history.frame.columns.tolist() == ["date", "t", "price", "units", "pimin"]
    assert history.price.tolist() == [0.93, 0.92, 1.02]
    assert history.units.tolist() == [5.78, 6.02, 5.57]
    assert history.competitors == ("pimin",)
    assert history.freq == "W"


def test_unknown_file_type_and_missing_file(tmp_path: Path) -> None:
    (tmp_path / "s.xlsx").write_text("x")
    with pytest.raises(DataValidationError, match=r"unsupported file type '.xlsx'"):
        load_history(tmp_path / "s.xlsx")
    with pytest.raises(DataValidationError, match="file not found"):
        load_history(tmp_path / "nope.csv")


# ------------------------------------------------------- files as people export them
def spreadsheet_csv(path: Path, rows: list[str], header: str = "date;price;units") -> Path:
    """A CSV file written line by line, as a spreadsheet exports it."""
    path.write_text("\n".join([header, *rows]) + "\n")
    return path


EUROPEAN_ROWS = ["2024-01-01;9,99;12", "2024-01-02;10,49;9", "2024-01-03;8,99;15"]


def test_semicolons_and_decimal_commas_are_read_and_said(tmp_path: Path) -> None:
    path = spreadsheet_csv(tmp_path / "export.csv", EUROPEAN_ROWS)
    history = load_history(path)
    np.testing.assert_array_equal(history.price, [9.99, 10.49, 8.99])  # parsed exactly as typed
    np.testing.assert_array_equal(history.units, [12, 9, 15])
    assert history.freq == "D" and history.t.tolist() == [0.0, 1.0, 2.0]
    assert history.notes == (
        "read as ';'-separated with decimal commas (sep and decimal detected from the file; "
        "to read it otherwise, pass sep=, decimal= (CLI: --sep, --decimal)).",
    )
    # the same numbers as the plain comma-separated file
    plain = spreadsheet_csv(
        tmp_path / "plain.csv",
        [r.replace(",", ".").replace(";", ",") for r in EUROPEAN_ROWS],
        header="date,price,units",
    )
    pd.testing.assert_frame_equal(history.frame, load_history(plain).frame)
    assert load_history(plain).notes == ()


def test_given_sep_and_decimal_are_used_and_the_note_says_what_was_detected(
    tmp_path: Path,
) -> None:
    path = spreadsheet_csv(tmp_path / "export.csv", EUROPEAN_ROWS)
    history = load_history(path, sep=";", decimal=",")
    np.testing.assert_array_equal(history.price, [9.99, 10.49, 8.99])
    assert history.notes == ("read as ';'-separated with decimal commas.",)
    history = load_history(path, sep=";")
    assert history.notes[0].startswith("read as ';'-separated with decimal commas (decimal ")


def test_tab_and_pipe_separators_are_detected(tmp_path: Path) -> None:
    for sep, name in (("\t", "tab"), ("|", "'|'")):
        rows = [r.replace(";", sep) for r in EUROPEAN_ROWS]
        path = spreadsheet_csv(tmp_path / "export.csv", rows, header=f"date{sep}price{sep}units")
        history = load_history(path)
        np.testing.assert_array_equal(history.price, [9.99, 10.49, 8.99])
        assert history.notes[0].startswith(f"read as {name}-separated with decimal commas")
    path = spreadsheet_csv(tmp_path / "tabs.csv", [r.replace(";", "\t") for r in EUROPEAN_ROWS],
                           header="date\tprice\tunits")  # fmt: skip
    assert load_history(path, sep="tab").price.tolist() == [9.99, 10.49, 8.99]
    assert load_history(path, sep="\\t").price.tolist() == [9.99, 10.49, 8.99]


def test_thousands_dots_with_decimal_commas_are_read_and_said(tmp_path: Path) -> None:
    rows = ["2024-01-01;1.234,5;1.200", "2024-01-02;999,25;950", "2024-01-03;1.100;1.010"]
    history = load_history(spreadsheet_csv(tmp_path / "big.csv", rows))
    np.testing.assert_array_equal(history.price, [1234.5, 999.25, 1100.0])
    np.testing.assert_array_equal(history.units, [1200, 950, 1010])
    assert "'.' was read as a thousands separator (e.g. '1.234,5' as 1234.5)" in history.notes[0]


def test_semicolons_with_decimal_points_are_read(tmp_path: Path) -> None:
    rows = [r.replace(",", ".") for r in EUROPEAN_ROWS]
    history = load_history(spreadsheet_csv(tmp_path / "dots.csv", rows))
    np.testing.assert_array_equal(history.price, [9.99, 10.49, 8.99])
    assert history.notes[0].startswith("read as ';'-separated with decimal points")


def test_dotted_dates_are_not_read_as_thousands(tmp_path: Path) -> None:
    # pandas' own thousands='.' turns 01.02.2024 into the number 1022024; here the
    # date column stays text and goes to the date parser.
    rows = ["2024.01.01;9,99;12", "2024.01.02;10,49;9", "2024.01.03;8,99;15"]
    history = load_history(spreadsheet_csv(tmp_path / "d.csv", rows))
    assert history.frame["date"].dt.strftime("%Y-%m-%d").tolist() == [
        "2024-01-01",
        "2024-01-02",
        "2024-01-03",
    ]


def test_dotted_day_first_dates_of_an_export_are_read_day_first(tmp_path: Path) -> None:
    # 12 days as a German spreadsheet writes them: read month first they were 12 months
    days = pd.date_range("2024-01-01", periods=12, freq="D")
    rows = [f"{d:%d.%m.%Y};{9 + i % 3},49;{10 + i}" for i, d in enumerate(days)]
    history = load_history(spreadsheet_csv(tmp_path / "de.csv", rows))
    assert history.freq == "D"
    np.testing.assert_array_equal(history.frame["date"].to_numpy(), days.to_numpy())
    assert history.notes[1] == (
        "dates in column 'date' such as '01.01.2024' were read day first (DD.MM.YYYY, as "
        "dotted dates are written)."
    )


@pytest.mark.parametrize(
    ("fmt", "n", "note"),
    [
        ("%d/%m/%Y", 20, "dates in column 'date' were read day first (DD/MM/YYYY), as "
         "'13/01/2024' shows."),
        ("%m/%d/%Y", 20, None),
        ("%m/%d/%Y", 12, "dates in column 'date' such as '01/01/2024' were read month first "
         "(MM/DD/YYYY); no date has a number above 12 that settles the order. If they are "
         "DD/MM/YYYY, write them as YYYY-MM-DD."),
    ],
)  # fmt: skip
def test_slashed_dates_take_the_order_the_data_shows(fmt: str, n: int, note: str | None) -> None:
    days = pd.date_range("2024-01-01", periods=n, freq="D")
    frame = pd.DataFrame(
        {"date": days.strftime(fmt), "price": [9.0 + i % 3 for i in range(n)], "units": 5}
    )
    history = load_history(frame)
    assert history.freq == "D"
    np.testing.assert_array_equal(history.frame["date"].to_numpy(), days.to_numpy())
    assert history.notes == (() if note is None else (note,))


def test_mixed_decimal_marks_are_refused_naming_both_cells(tmp_path: Path) -> None:
    rows = ["2024-01-01;9,99;12", "2024-01-02;10.49;9", "2024-01-03;8,99;15"]
    path = spreadsheet_csv(tmp_path / "mixed.csv", rows)
    with pytest.raises(DataValidationError) as info:
        load_history(path)
    assert str(info.value) == (
        f"{path}: the file looks ';'-separated, but its numbers mix decimal commas ('9,99' in "
        "column 'price', row 2) and decimal points ('10.49' in column 'price', row 3), so "
        "neither reading is safe. Fix: write every number with one decimal mark, or choose "
        "one with decimal=',' or decimal='.' (CLI: --sep ';' --decimal ',' or --sep ';' "
        "--decimal '.'); cells written the other way are then reported as not numbers."
    )


def test_a_number_that_reads_two_ways_is_refused(tmp_path: Path) -> None:
    # 1,234 is 1.234 with a decimal comma or 1234 with a thousands comma: never guessed.
    rows = ["2024-01-01;1,234;12", "2024-01-02;1,100;9", "2024-01-03;2;15"]
    path = spreadsheet_csv(tmp_path / "open.csv", rows)
    with pytest.raises(DataValidationError) as info:
        load_history(path)
    message = str(info.value)
    assert message.startswith(f"{path}: the file looks ';'-separated, and its numbers can be")
    assert "'1,234' in column 'price', row 2 is 1.234 if ',' is a decimal mark, or 1234" in message
    assert "(CLI: --sep ';' --decimal ',' or --sep ';' --decimal '.')" in message
    # either choice is then read as asked
    assert load_history(path, decimal=",").price.tolist() == [1.234, 1.1, 2.0]
    assert load_history(path, decimal=".").price.tolist() == [1234.0, 1100.0, 2.0]


def test_a_cell_of_the_other_mark_is_reported_not_guessed(tmp_path: Path) -> None:
    rows = ["2024-01-01;9,99;12", "2024-01-02;10.49;9", "2024-01-03;8,99;15"]
    path = spreadsheet_csv(tmp_path / "mixed.csv", rows)
    with pytest.raises(
        DataValidationError, match=r"not a number in column 'price': row 3 \('10.49'\)"
    ):
        load_history(path, decimal=",")


def test_one_bad_cell_in_a_decimal_comma_column_is_the_only_one_reported(tmp_path: Path) -> None:
    rows = [*EUROPEAN_ROWS, "2024-01-04;n/a;11", "2024-01-05;9,49;13"]
    path = spreadsheet_csv(tmp_path / "gap.csv", rows)
    with pytest.raises(DataValidationError) as info:
        load_history(path)
    assert "not a number in column 'price': row 5 ('n/a') [1 row in total]" in str(info.value)
    with pytest.warns(PricegymWarning, match="dropped 1 of 5 rows"):
        history = load_history(path, drop_invalid=True)
    np.testing.assert_array_equal(history.price, [9.99, 10.49, 8.99, 9.49])


def test_decimal_commas_read_as_points_are_reported_with_the_option(tmp_path: Path) -> None:
    # a comma-separated file with quoted decimal commas: not numbers, and the fix says why
    path = tmp_path / "quoted.csv"
    path.write_text('date,price,units\n2024-01-01,"9,99",12\n2024-01-02,"10,49",9\n')
    with pytest.raises(DataValidationError) as info:
        load_history(path)
    message = str(info.value)
    assert "not a number in column 'price': row 2 ('9,99'), row 3 ('10,49')" in message
    assert message.endswith(
        "Cells such as '9,99' are numbers written with a decimal comma: pass decimal=',' "
        "(CLI: --decimal ',') to read them as such."
    )
    assert load_history(path, decimal=",").price.tolist() == [9.99, 10.49]


def test_wrong_separator_names_the_one_that_fits(tmp_path: Path) -> None:
    path = spreadsheet_csv(tmp_path / "export.csv", EUROPEAN_ROWS)
    with pytest.raises(DataValidationError) as info:
        load_history(path, sep=",")
    assert str(info.value) == (
        f"{path}: has a single column 'date;price;units', which looks like the header of a "
        "';'-separated file read with another separator. Fix: pass sep=';' (CLI: --sep ';'), "
        "or omit sep= to detect it."
    )


@pytest.mark.parametrize(
    ("options", "message"),
    [
        ({"sep": "ab"}, "sep='ab' is not a field separator"),
        ({"sep": "x"}, "sep='x' is not a field separator"),
        ({"decimal": ";"}, "decimal=';' is not a decimal mark; use '.' (9.99) or ',' (9,99)"),
    ],
)
def test_bad_sep_or_decimal_is_refused(tmp_path: Path, options: dict, message: str) -> None:
    path = spreadsheet_csv(tmp_path / "export.csv", EUROPEAN_ROWS)
    with pytest.raises(DataValidationError, match=re.escape(message)):
        load_history(path, **options)


def test_sep_and_decimal_only_describe_csv_files() -> None:
    with pytest.raises(DataValidationError, match="a DataFrame has no separator or decimal"):
        load_history(weekly(), decimal=",")


def test_product_column_explaining_duplicates_is_named(tmp_path: Path) -> None:
    dates = pd.date_range("2024-01-01", periods=60, freq="D").strftime("%Y-%m-%d")
    frame = pd.DataFrame(
        {
            "date": np.tile(dates, 2),
            "product": np.repeat(["a", "b"], 60),
            "price": np.tile(np.linspace(8.0, 12.0, 60), 2),
            "units": 5,
        }
    )
    path = write_csv(frame, tmp_path / "two.csv")
    with pytest.raises(DataValidationError) as info:
        load_history(path)
    message = str(info.value)
    assert message.startswith(
        f"{path}: duplicate periods: 120 rows share a date (column 'date') with another row ("
    )
    assert "date 2024-01-01 in rows 2, 62" in message
    assert (
        "Fix: column 'product' holds 2 products (a, b): pass --product product to fit each, "
        "or filter to one (--product product --select-product a); in Python "
        "load_history(..., product='product'), then history.for_product('a'). Every "
        "duplicate is told apart by that column."
    ) in message
    assert load_history(path, product="product").products == ("a", "b")


def test_key_suggestion_needs_a_column_that_explains_every_duplicate() -> None:
    frame = weekly(4, channel=["web", "shop", "web", "shop"], promo=[0, 1, 0, 1])
    frame.loc[1, "date"] = frame.loc[0, "date"]
    frame.loc[3, "date"] = frame.loc[2, "date"]
    # 'channel' (text) explains both duplicates; 'promo' does too but is a 0/1 flag
    with pytest.raises(
        DataValidationError, match="column 'channel' holds 2 products \\(web, shop\\)"
    ):
        load_history(frame)
    frame["channel"] = ["web", "web", "web", "shop"]  # no longer explains row 2's duplicate
    with pytest.raises(DataValidationError) as info:
        load_history(frame)
    assert "holds" not in str(info.value)
    assert "map their key with product=... (CLI: --product)" in str(info.value)


# ------------------------------------------------------------------ views
def panel() -> SalesHistory:
    frame = pd.DataFrame(
        {
            "period": [1, 2, 3, 1, 2],
            "sku": [10, 10, 10, 20, 20],
            "price": [1.0, 2.0, 3.0, 4.0, 5.0],
            "units": [1, 2, 3, 4, 5],
        }
    )
    return load_history(frame, product="sku")


def test_require_rows_uses_the_smallest_product() -> None:
    history = panel()
    history.require_rows(2, "ols")
    with pytest.raises(DataValidationError) as info:
        history.require_rows(3, "arimax")
    message = str(info.value)
    assert "too few rows for the chosen model 'arimax'" in message
    assert "product '20' has only 2 rows (the fewest of 2 products)" in message
    assert "needs at least 3" in message and "simpler model" in message
    single = load_history(weekly(4))
    with pytest.raises(
        DataValidationError, match="the history has 4 rows, but mlp needs at least 5"
    ):
        single.require_rows(5, "mlp")


def test_take_and_for_product_keep_the_clock() -> None:
    history = panel()
    part = history.for_product("20")
    assert part.frame["price"].tolist() == [4.0, 5.0]
    assert part.t.tolist() == [0.0, 1.0]
    assert part.notes[-1] == "selected product '20'"
    taken = history.take([0, 2], note="every other row")
    assert taken.t.tolist() == [0.0, 2.0]
    assert taken.notes == ("every other row",)
    with pytest.raises(DataValidationError, match="product '30' not found"):
        history.for_product("30")


def test_to_dict_summary() -> None:
    summary = load_history(weekly(3, comp=[1.0, 1.1, 1.2]), competitors=["comp"]).to_dict_summary()
    assert summary == {
        "source": "<DataFrame>",
        "n_rows": 3,
        "products": ["all"],
        "n_products": 1,
        "freq": "W",
        "time_column": "date",
        "date_range": ["2020-01-06", "2020-01-20"],
        "price_range": [2.0, 2.2],
        "competitors": ["comp"],
        "promotions": [],
        "instruments": [],
        "notes": [],
        "calendar": None,
    }
    assert panel().to_dict_summary()["date_range"] == [1, 3]
